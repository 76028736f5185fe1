"""The full-load ZIP files behind `/api/files/...`, made from the double's dataset.

Shapes (epc-api.md 3.1; the export_csv and json_export fixtures of epb-data-warehouse):
- `<kind>-csv`: one `certificates-YYYY.csv` per registration year (and, for domestic,
  `recommendations-YYYY.csv` from each document's `suggested_improvements`), lower-case snake_case
  headers with `certificate_number` first. Column sets are the export fixtures' (`domestic.csv`,
  `commercial.csv`, `dec.csv`, `domestic_rr.csv`, duplicate headers dropped); values come from
  the document where it holds them (coded values stay codes, the register's look-up texts are not
  reproduced), dates stay ISO, `uprn` is plain digits, the rest is empty.
- `<kind>-json`: `certificates-YYYY.jsonl`, JSON Lines of `{"certificate_number", "document"}`
  where `document` is what `/api/certificate` serves.
- `non-domestic-recommendations-json`, `display-recommendations-json`: `recommendations-YYYY.jsonl`
  with the recommendation-report documents (CEPC-RR / DEC-RR), same line shape.
Each file holds what was registered before its `last_updated` day, in the current state (removed
certificates left out). ZIP entries carry `last_updated` as their time, so a file's bytes, size and
ETag are the same on every build: downloads can resume across requests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from tests.doubles.mhclg.dataset import PLACES, Certificate, Dataset, current_rating, floor_area

FILES = (
    "domestic-csv",
    "domestic-json",
    "non-domestic-csv",
    "non-domestic-json",
    "display-csv",
    "display-json",
    "non-domestic-recommendations-json",
    "display-recommendations-json",
)
CODES = {p[0]: (p[1], p[3]) for p in PLACES}  # council → (ONS council code, constituency code)
EFFICIENCY = {0: "N/A", 1: "Very Poor", 2: "Poor", 3: "Average", 4: "Good", 5: "Very Good"}
COUNTRIES = {"ENG": "England", "WLS": "Wales", "EAW": "England and Wales", "NIR": "Northern Ireland"}


@dataclass(frozen=True)
class ExportFile:
    name: str
    key: str
    content: bytes
    etag: str
    last_updated: datetime


def _get(doc: Any, path: str) -> Any:
    """`a.b.0.c` into nested dicts and lists; None where anything is missing."""
    for part in path.split("."):
        if isinstance(doc, list):
            doc = doc[int(part)] if part.isdigit() and int(part) < len(doc) else None
        elif isinstance(doc, dict):
            doc = doc.get(part)
        else:
            return None
    return doc


def _elements(doc: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    for key in keys:
        value = doc.get(key)
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
    return []


def _description(*keys: str) -> Callable[[Certificate], Any]:
    def get(cert: Certificate) -> Any:
        texts = [
            _get(e, "description.value") or _get(e, "description") for e in _elements(cert.document, *keys)
        ]
        return ", ".join(str(t) for t in texts if t and not isinstance(t, dict))

    return get


def _efficiency(which: str, *keys: str) -> Callable[[Certificate], Any]:
    def get(cert: Certificate) -> Any:
        found = _elements(cert.document, *keys)
        rating = found[0].get(f"{which}_efficiency_rating") if found else None
        return EFFICIENCY.get(rating, "") if isinstance(rating, int) else ""

    return get


def _path(path: str) -> Callable[[Certificate], Any]:
    return lambda cert: _get(cert.document, path)


def _address(cert: Certificate) -> str:
    return ", ".join(
        str(cert.document[f"address_line_{i}"]) for i in range(1, 4) if cert.document.get(f"address_line_{i}")
    )


COMMON: dict[str, Callable[[Certificate], Any]] = {
    "certificate_number": lambda c: c.certificate_number,
    "address1": _path("address_line_1"),
    "address2": _path("address_line_2"),
    "address3": _path("address_line_3"),
    "postcode": _path("postcode"),
    "posttown": _path("post_town"),
    "uprn": _path("uprn"),
    "inspection_date": _path("inspection_date"),
    "lodgement_date": lambda c: c.registration_date.isoformat(),
    "lodgement_datetime": lambda c: (c.document.get("created_at") or c.registration_date.isoformat())[:19],
    "report_type": _path("report_type"),
    "property_type": _path("property_type"),
    "transaction_type": _path("transaction_type"),
    "address": _address,
    "local_authority": lambda c: CODES.get(c.council, ("", ""))[0],
    "local_authority_label": lambda c: c.council,
    "constituency": lambda c: CODES.get(c.council, ("", ""))[1],
    "constituency_label": lambda c: c.constituency,
    "country": lambda c: COUNTRIES.get(c.document.get("country_code"), ""),
}
DOMESTIC: dict[str, Callable[[Certificate], Any]] = {
    "built_form": _path("built_form"),
    "co2_emiss_curr_per_floor_area": _path("co2_emissions_current_per_floor_area"),
    "co2_emissions_current": _path("co2_emissions_current"),
    "co2_emissions_potential": _path("co2_emissions_potential"),
    "construction_age_band": _path("sap_building_parts.0.construction_age_band"),
    "current_energy_efficiency": _path("energy_rating_current"),
    "current_energy_rating": _path("current_energy_efficiency_band"),
    "energy_consumption_current": _path("energy_consumption_current"),
    "energy_consumption_potential": _path("energy_consumption_potential"),
    "energy_tariff": _path("sap_energy_source.meter_type"),
    "environment_impact_current": _path("environmental_impact_current"),
    "environment_impact_potential": _path("environmental_impact_potential"),
    "extension_count": _path("extensions_count"),
    "fixed_lighting_outlets_count": _path("fixed_lighting_outlets_count"),
    "flat_storey_count": _path("sap_flat_details.storey_count"),
    "flat_top_storey": _path("sap_flat_details.top_storey"),
    "floor_description": _description("floors", "floor"),
    "floor_energy_eff": _efficiency("energy", "floors", "floor"),
    "floor_env_eff": _efficiency("environmental", "floors", "floor"),
    "floor_height": _path("sap_building_parts.0.sap_floor_dimensions.0.room_height.value"),
    "floor_level": _path("sap_flat_details.level"),
    "glazed_area": _path("glazed_area"),
    "glazed_type": _path("multiple_glazing_type"),
    "heat_loss_corridor": _path("sap_flat_details.heat_loss_corridor"),
    "heating_cost_current": _path("heating_cost_current"),
    "heating_cost_potential": _path("heating_cost_potential"),
    "hot_water_cost_current": _path("hot_water_cost_current"),
    "hot_water_cost_potential": _path("hot_water_cost_potential"),
    "hot_water_energy_eff": _efficiency("energy", "hot_water"),
    "hot_water_env_eff": _efficiency("environmental", "hot_water"),
    "hotwater_description": _description("hot_water"),
    "lighting_cost_current": _path("lighting_cost_current"),
    "lighting_cost_potential": _path("lighting_cost_potential"),
    "lighting_description": _description("lighting"),
    "lighting_energy_eff": _efficiency("energy", "lighting"),
    "lighting_env_eff": _efficiency("environmental", "lighting"),
    "low_energy_lighting": _path("low_energy_lighting"),
    "low_energy_fixed_lighting_outlets_count": _path("low_energy_fixed_lighting_outlets_count"),
    "main_fuel": _path("sap_heating.main_heating_details.0.main_fuel_type"),
    "mainheat_description": _description("main_heating"),
    "mainheat_energy_eff": _efficiency("energy", "main_heating"),
    "mainheat_env_eff": _efficiency("environmental", "main_heating"),
    "mainheatc_energy_eff": _efficiency("energy", "main_heating_controls"),
    "mainheatc_env_eff": _efficiency("environmental", "main_heating_controls"),
    "mainheatcont_description": _description("main_heating_controls"),
    "mains_gas_flag": _path("sap_energy_source.mains_gas"),
    "mechanical_ventilation": _path("mechanical_ventilation"),
    "multi_glaze_proportion": _path("multiple_glazed_proportion"),
    "number_habitable_rooms": _path("habitable_room_count"),
    "number_heated_rooms": _path("heated_room_count"),
    "number_open_fireplaces": _path("open_fireplaces_count"),
    "photo_supply": _path("sap_energy_source.photovoltaic_supply.none_or_no_details.percent_roof_area"),
    "potential_energy_efficiency": _path("energy_rating_potential"),
    "potential_energy_rating": _path("potential_energy_efficiency_band"),
    "roof_description": _description("roofs", "roof"),
    "roof_energy_eff": _efficiency("energy", "roofs", "roof"),
    "roof_env_eff": _efficiency("environmental", "roofs", "roof"),
    "secondheat_description": _description("secondary_heating"),
    "sheating_energy_eff": _efficiency("energy", "secondary_heating"),
    "sheating_env_eff": _efficiency("environmental", "secondary_heating"),
    "solar_water_heating_flag": _path("solar_water_heating"),
    "tenure": _path("tenure"),
    "total_floor_area": lambda c: floor_area(c.document),
    "unheated_corridor_length": _path("sap_flat_details.unheated_corridor_length.value"),
    "walls_description": _description("walls"),
    "walls_energy_eff": _efficiency("energy", "walls"),
    "walls_env_eff": _efficiency("environmental", "walls"),
    "wind_turbine_count": _path("sap_energy_source.wind_turbines_count"),
    "windows_description": _description("windows", "window"),
    "windows_energy_eff": _efficiency("energy", "windows", "window"),
    "windows_env_eff": _efficiency("environmental", "windows", "window"),
    "region": _path("region_code"),
}
NON_DOMESTIC: dict[str, Callable[[Certificate], Any]] = {
    "asset_rating": _path("asset_rating"),
    "asset_rating_band": _path("current_energy_efficiency_band"),
    "new_build_benchmark": _path("new_build_benchmark"),
    "existing_stock_benchmark": _path("existing_stock_benchmark"),
    "building_level": _path("technical_information.building_level"),
    "main_heating_fuel": _path("technical_information.main_heating_fuel"),
    "other_fuel_desc": _path("technical_information.other_fuel_description"),
    "special_energy_uses": _path("technical_information.special_energy_uses"),
    "renewable_sources": _path("technical_information.renewable_sources"),
    "floor_area": lambda c: floor_area(c.document),
    "standard_emissions": _path("ser"),
    "target_emissions": _path("ter"),
    "typical_emissions": _path("tyr"),
    "building_emissions": _path("ber"),
    "aircon_present": _path("ac_questionnaire.ac_present"),
    "aircon_kw_rating": _path("ac_questionnaire.ac_rated_output.ac_kw_rating"),
    "estimated_aircon_kw_rating": _path("ac_questionnaire.ac_estimated_output"),
    "ac_inspection_commissioned": _path("ac_questionnaire.ac_inspection_commissioned"),
    "building_environment": _path("technical_information.building_environment"),
    "primary_energy_value": _path("energy_use.energy_consumption_current"),
}
DISPLAY: dict[str, Callable[[Certificate], Any]] = {
    "current_operational_rating": lambda c: current_rating(c.document),
    "yr1_operational_rating": _path("year1_assessment.energy_rating"),
    "yr2_operational_rating": _path("year2_assessment.energy_rating"),
    "electric_co2": _path("this_assessment.electricity_co2"),
    "heating_co2": _path("this_assessment.heating_co2"),
    "renewables_co2": _path("this_assessment.renewables_co2"),
    "main_heating_fuel": _path("technical_information.main_heating_fuel"),
    "special_energy_uses": _path("technical_information.special_energy_uses"),
    "renewable_sources": _path("technical_information.renewable_sources"),
    "total_floor_area": lambda c: floor_area(c.document),
    "occupancy_level": _path("or_benchmark_data.benchmarks.0.occupancy_level"),
    "main_benchmark": _path("or_benchmark_data.benchmarks.0.name"),
    "annual_thermal_fuel_usage": _path("dec_annual_energy_summary.annual_energy_use_fuel_thermal"),
    "typical_thermal_fuel_usage": _path("dec_annual_energy_summary.typical_thermal_use"),
    "annual_electrical_fuel_usage": _path("dec_annual_energy_summary.annual_energy_use_electrical"),
    "typical_electrical_fuel_usage": _path("dec_annual_energy_summary.typical_electrical_use"),
    "renewables_fuel_thermal": _path("dec_annual_energy_summary.renewables_fuel_thermal"),
    "renewables_electrical": _path("dec_annual_energy_summary.renewables_electrical"),
    "yr1_electricity_co2": _path("year1_assessment.electricity_co2"),
    "yr2_electricity_co2": _path("year2_assessment.electricity_co2"),
    "yr1_heating_co2": _path("year1_assessment.heating_co2"),
    "yr2_heating_co2": _path("year2_assessment.heating_co2"),
    "yr1_renewables_co2": _path("year1_assessment.renewables_co2"),
    "yr2_renewables_co2": _path("year2_assessment.renewables_co2"),
    "aircon_present": _path("ac_questionnaire.ac_present"),
    "aircon_kw_rating": _path("ac_questionnaire.ac_rated_output.ac_kw_rating"),
    "estimated_aircon_kw_rating": _path("ac_questionnaire.ac_estimated_output"),
    "ac_inspection_commissioned": _path("ac_questionnaire.ac_inspection_commissioned"),
    "building_environment": _path("technical_information.building_environment"),
    "building_category": _path("building_category"),
    "operational_rating_band": _path("current_energy_efficiency_band"),
    "nominated_date": _path("this_assessment.nominated_date"),
    "or_assessment_end_date": _path("or_assessment_end_date"),
    "typical_thermal_use": _path("dec_annual_energy_summary.typical_thermal_use"),
    "other_fuel": _path("technical_information.other_fuel_description"),
}

# column order of the export fixtures (tests/fixtures: see SOURCES.md), lower-cased, duplicates dropped
DOMESTIC_COLUMNS = (
    "certificate_number", "address2", "address3", "address1", "uprn", "built_form",
    "co2_emiss_curr_per_floor_area", "co2_emissions_current", "co2_emissions_potential",
    "construction_age_band", "current_energy_efficiency", "current_energy_rating",
    "energy_consumption_current", "energy_consumption_potential", "energy_tariff",
    "environment_impact_current", "environment_impact_potential", "extension_count",
    "fixed_lighting_outlets_count", "flat_storey_count", "flat_top_storey", "floor_description",
    "floor_energy_eff", "floor_height", "floor_level", "glazed_area", "glazed_type",
    "heat_loss_corridor", "heating_cost_current", "heating_cost_potential", "hot_water_cost_current",
    "hot_water_cost_potential", "hot_water_energy_eff", "hot_water_env_eff", "hotwater_description",
    "inspection_date", "lighting_cost_current", "lighting_cost_potential", "lighting_description",
    "lighting_energy_eff", "lighting_env_eff", "lodgement_date", "lodgement_datetime",
    "low_energy_lighting", "low_energy_fixed_lighting_outlets_count", "main_fuel",
    "mainheat_description", "mainheat_energy_eff", "mainheat_env_eff", "mainheatc_energy_eff",
    "mainheatc_env_eff", "mainheatcont_description", "mains_gas_flag", "mechanical_ventilation",
    "multi_glaze_proportion", "number_habitable_rooms", "number_heated_rooms",
    "number_open_fireplaces", "photo_supply", "postcode", "posttown", "potential_energy_efficiency",
    "potential_energy_rating", "property_type", "report_type", "roof_description", "roof_energy_eff",
    "roof_env_eff", "secondheat_description", "sheating_energy_eff", "sheating_env_eff",
    "solar_water_heating_flag", "tenure", "total_floor_area", "transaction_type",
    "unheated_corridor_length", "walls_description", "walls_energy_eff", "walls_env_eff",
    "wind_turbine_count", "windows_description", "windows_energy_eff", "windows_env_eff",
    "floor_env_eff", "region", "country",
)  # fmt: skip
DOMESTIC_RECOMMENDATION_COLUMNS = (
    "certificate_number", "improvement_item", "indicative_cost", "improvement_summary_text",
    "improvement_descr_text", "improvement_id",
)  # fmt: skip
NON_DOMESTIC_COLUMNS = (
    "certificate_number", "address1", "address2", "address3", "postcode", "uprn", "asset_rating",
    "asset_rating_band", "property_type", "inspection_date", "local_authority", "constituency",
    "transaction_type", "lodgement_date", "new_build_benchmark", "existing_stock_benchmark",
    "building_level", "main_heating_fuel", "other_fuel_desc", "special_energy_uses",
    "renewable_sources", "floor_area", "standard_emissions", "target_emissions", "typical_emissions",
    "building_emissions", "aircon_present", "aircon_kw_rating", "estimated_aircon_kw_rating",
    "ac_inspection_commissioned", "building_environment", "address", "local_authority_label",
    "constituency_label", "posttown", "lodgement_datetime", "primary_energy_value", "report_type",
)  # fmt: skip
DISPLAY_COLUMNS = (
    "certificate_number", "address1", "address2", "address3", "posttown", "postcode", "uprn",
    "current_operational_rating", "yr1_operational_rating", "yr2_operational_rating",
    "electric_co2", "heating_co2", "renewables_co2", "property_type", "inspection_date",
    "lodgement_date", "lodgement_datetime", "main_benchmark", "main_heating_fuel",
    "special_energy_uses", "renewable_sources", "total_floor_area", "occupancy_level",
    "annual_thermal_fuel_usage", "typical_thermal_fuel_usage", "annual_electrical_fuel_usage",
    "typical_electrical_fuel_usage", "renewables_fuel_thermal", "renewables_electrical",
    "yr1_electricity_co2", "yr2_electricity_co2", "yr1_heating_co2", "yr2_heating_co2",
    "yr1_renewables_co2", "yr2_renewables_co2", "aircon_present", "aircon_kw_rating",
    "estimated_aircon_kw_rating", "ac_inspection_commissioned", "building_environment",
    "building_category", "operational_rating_band", "nominated_date", "or_assessment_end_date",
    "typical_thermal_use", "report_type", "other_fuel", "country", "constituency",
    "constituency_label", "address", "local_authority", "local_authority_label",
)  # fmt: skip
COLUMNS = {"domestic": DOMESTIC_COLUMNS, "non-domestic": NON_DOMESTIC_COLUMNS, "display": DISPLAY_COLUMNS}
GETTERS = {"domestic": COMMON | DOMESTIC, "non-domestic": COMMON | NON_DOMESTIC, "display": COMMON | DISPLAY}


def _cell(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def certificate_row(cert: Certificate) -> dict[str, str]:
    """The certificate's line in its kind's CSV full load."""
    getters = GETTERS[cert.kind]
    return {name: _cell(getters[name](cert)) if name in getters else "" for name in COLUMNS[cert.kind]}


def recommendation_rows(cert: Certificate) -> list[dict[str, str]]:
    """Domestic recommendations (`suggested_improvements`) as lines of recommendations-YYYY.csv."""
    rows = []
    for item in cert.document.get("suggested_improvements") or []:
        details = item.get("improvement_details") or {}
        values = {
            "certificate_number": cert.certificate_number,
            "improvement_item": item.get("sequence"),
            "indicative_cost": item.get("indicative_cost"),
            "improvement_summary_text": details.get("improvement_summary"),
            "improvement_descr_text": details.get("improvement_description")
            or details.get("improvement_text"),
            "improvement_id": details.get("improvement_number"),
        }
        rows.append({k: _cell(v) for k, v in values.items()})
    return rows


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _jsonl(certs: list[Certificate]) -> bytes:
    return b"".join(
        orjson.dumps({"certificate_number": c.certificate_number, "document": c.document}) + b"\n"
        for c in certs
    )


def members(data: Dataset, name: str, until: datetime) -> dict[str, bytes]:
    """The ZIP's members, by name, for full-load file `name`."""
    kind, _, fmt = name.rpartition("-")
    recommendations = kind.endswith("-recommendations")
    kind = kind.removesuffix("-recommendations")
    certs = data.reports(kind) if recommendations else data.certificates(kind)
    by_year: dict[int, list[Certificate]] = defaultdict(list)
    for cert in certs:
        if cert.registration_date < until.date():
            by_year[cert.registration_date.year].append(cert)
    out: dict[str, bytes] = {}
    for year, group in sorted(by_year.items()):
        if recommendations:
            out[f"recommendations-{year}.jsonl"] = _jsonl(group)
        elif fmt == "json":
            out[f"certificates-{year}.jsonl"] = _jsonl(group)
        else:
            out[f"certificates-{year}.csv"] = _csv(COLUMNS[kind], [certificate_row(c) for c in group])
            if kind == "domestic":
                recs = [row for c in group for row in recommendation_rows(c)]
                out[f"recommendations-{year}.csv"] = _csv(DOMESTIC_RECOMMENDATION_COLUMNS, recs)
    return out


def build(data: Dataset, name: str, last_updated: datetime) -> ExportFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in members(data, name, last_updated).items():
            info = zipfile.ZipInfo(member, date_time=last_updated.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    content = buffer.getvalue()
    etag = hashlib.md5(content, usedforsecurity=False).hexdigest()
    return ExportFile(name, f"full-load/{name}.zip", content, etag, last_updated)
