{#- The live service's codes that the code tables do not decode, counted per set of undecoded
    fields (`field=code; …`, the decoded columns are NULL for them) and schema version. `model` is
    a kind's unioned certificates, whose staging model recorded them (undecoded_codes). Meant with
    severity warn: a new schema version or code shows here before anyone misses it in the marts.
    In the daily build it reads the day's loads only (macros/test_scope.sql). -#}
{% test codes_have_labels(model) %}

select
    undecoded_codes,
    schema_type,
    count(*) as certificates
from {{ model }}
where undecoded_codes is not null
group by undecoded_codes, schema_type

{% endtest %}
