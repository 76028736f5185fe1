{#- The key a certificate's property is known by: its UPRN, or for the certificates that have none
    (about 8 % of the register), the normalised postcode and address lines; failing those, the
    certificate stands alone. Upper-cased letters and digits only, so spelling variants of the
    same address ("Flat 3, 22 Acacia Ave" / "FLAT 3 22 ACACIA AVE") meet. -#}
{% macro property_key(uprn, postcode, address_lines, certificate_key) -%}
    coalesce(
        'uprn:' || {{ uprn }},
        'address:' || {{ normalise_key_text(postcode) }} || ':' || nullif({{ normalise_key_text(
            "coalesce(" ~ address_lines | join(", '') || coalesce(") ~ ", '')"
        ) }}, ''),
        'certificate:' || {{ certificate_key }}
    )
{%- endmacro %}

{% macro normalise_key_text(expression) -%}
    {{ regexp_replace_all('upper(' ~ expression ~ ')', '[^A-Z0-9]+', '') }}
{%- endmacro %}
