"""Field names of the legacy v1 API, in the order the API returns them.

Domestic names come from the `column-names` of an official search body
(tests/fixtures/odc_v1/sample_search_response.json); the others from the register's export
headers and the glossary, hyphenated as the API does (epc-api.md sections 2.1-2.4).
"""

DOMESTIC = (
    "lmk-key", "address1", "address2", "address3", "postcode", "building-reference-number",
    "current-energy-rating", "potential-energy-rating", "current-energy-efficiency",
    "potential-energy-efficiency", "property-type", "built-form", "inspection-date",
    "local-authority", "constituency", "county", "lodgement-date", "transaction-type",
    "environment-impact-current", "environment-impact-potential", "energy-consumption-current",
    "energy-consumption-potential", "co2-emissions-current", "co2-emiss-curr-per-floor-area",
    "co2-emissions-potential", "lighting-cost-current", "lighting-cost-potential",
    "heating-cost-current", "heating-cost-potential", "hot-water-cost-current",
    "hot-water-cost-potential", "total-floor-area", "energy-tariff", "mains-gas-flag",
    "floor-level", "flat-top-storey", "flat-storey-count", "main-heating-controls",
    "multi-glaze-proportion", "glazed-type", "glazed-area", "extension-count",
    "number-habitable-rooms", "number-heated-rooms", "low-energy-lighting",
    "number-open-fireplaces", "hotwater-description", "hot-water-energy-eff",
    "hot-water-env-eff", "floor-description", "floor-energy-eff", "floor-env-eff",
    "windows-description", "windows-energy-eff", "windows-env-eff", "walls-description",
    "walls-energy-eff", "walls-env-eff", "secondheat-description", "sheating-energy-eff",
    "sheating-env-eff", "roof-description", "roof-energy-eff", "roof-env-eff",
    "mainheat-description", "mainheat-energy-eff", "mainheat-env-eff",
    "mainheatcont-description", "mainheatc-energy-eff", "mainheatc-env-eff",
    "lighting-description", "lighting-energy-eff", "lighting-env-eff", "main-fuel",
    "wind-turbine-count", "heat-loss-corridor", "unheated-corridor-length", "floor-height",
    "photo-supply", "solar-water-heating-flag", "mechanical-ventilation", "address",
    "local-authority-label", "constituency-label", "posttown", "construction-age-band",
    "lodgement-datetime", "tenure", "fixed-lighting-outlets-count",
    "low-energy-fixed-light-count", "uprn", "uprn-source",
)  # fmt: skip

NON_DOMESTIC = (
    "lmk-key", "address1", "address2", "address3", "postcode", "building-reference-number",
    "asset-rating", "asset-rating-band", "property-type", "inspection-date", "local-authority",
    "constituency", "county", "lodgement-date", "transaction-type", "new-build-benchmark",
    "existing-stock-benchmark", "building-level", "main-heating-fuel", "other-fuel-desc",
    "special-energy-uses", "renewable-sources", "floor-area", "standard-emissions",
    "target-emissions", "typical-emissions", "building-emissions", "aircon-present",
    "aircon-kw-rating", "estimated-aircon-kw-rating", "ac-inspection-commissioned",
    "building-environment", "address", "local-authority-label", "constituency-label",
    "posttown", "lodgement-datetime", "primary-energy-value", "uprn", "uprn-source",
)  # fmt: skip

DOMESTIC_RECOMMENDATIONS = (
    "lmk-key", "improvement-item", "improvement-summary-text", "improvement-descr-text",
    "improvement-id", "improvement-id-text", "indicative-cost",
)  # fmt: skip

NON_DOMESTIC_RECOMMENDATIONS = (
    "lmk-key", "payback-type", "recommendation-item", "recommendation-code", "recommendation",
    "co2-impact",
)  # fmt: skip

CERTIFICATES = {"domestic": DOMESTIC, "non-domestic": NON_DOMESTIC}
RECOMMENDATIONS = {"domestic": DOMESTIC_RECOMMENDATIONS, "non-domestic": NON_DOMESTIC_RECOMMENDATIONS}
