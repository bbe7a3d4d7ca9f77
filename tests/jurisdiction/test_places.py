"""Countries and their regions come from ISO 3166 (pycountry): every country's states, not four countries'."""

from __future__ import annotations

from tipline.domain.report import ReportContent
from tipline.jurisdiction import ClueContext, Gazetteer, Place, Resolution, locate, parse_directory_csv, suggest_agency
from tipline.jurisdiction.places import country_code, country_name, region_code

DIRECTORY = (
    "code,name,type,country,region,city,contact_name,contact_email,contact_phone,public_key,active\n"
    "de-by-lka,Bavarian State Criminal Police (example),regional_police,DE,Bayern,,,,,,yes\n"
    "br-sp-pc,São Paulo Civil Police (example),regional_police,Brazil,SP,,,,,,yes\n"
)


def test_a_german_state_resolves_by_code_or_name_and_displays_by_name() -> None:
    assert region_code("DE", "Bayern") == "BY"
    assert region_code("DE", "by") == "BY"
    assert region_code("DE", "baden-wurttemberg") == "BW"  # accents, case and punctuation ignored
    place = Place.of("Germany", "BY", "Nürnberg")
    assert place == Place.of("DE", "Bayern", "Nürnberg")
    assert place.region == "Bayern"
    assert place.describe() == "Nürnberg, Bayern, Germany"


def test_a_brazilian_state_resolves_by_code_or_name_and_displays_by_name() -> None:
    assert country_code("Brazil") == "BR"
    assert region_code("BR", "Sao Paulo") == "SP"
    place = Place.of("BR", "SP")
    assert place.region == "São Paulo"
    assert place.same_region(Place.of("BR", "São Paulo", "Campinas"))
    assert place.describe() == "São Paulo, Brazil"


def test_agencies_of_german_and_brazilian_states_are_suggested_for_places_in_them() -> None:
    agencies = parse_directory_csv(DIRECTORY)
    bavaria = suggest_agency(Resolution(best=Place.of("DE", "BY", "München"), confidence=80), agencies)
    assert bavaria.agency is not None and bavaria.agency.code == "de-by-lka"
    sao_paulo = suggest_agency(Resolution(best=Place.of("BR", "São Paulo", "Santos"), confidence=80), agencies)
    assert sao_paulo.agency is not None and sao_paulo.agency.code == "br-sp-pc"


def test_the_regions_of_a_country_the_directory_covers_are_found_in_free_text() -> None:
    gazetteer = Gazetteer.standard([Place.of("DE", "Bayern")])
    [mention] = gazetteer.find("Er wohnt in Sachsen, glaube ich.")
    assert mention.place == Place.of("DE", "SN")


def test_the_four_countries_known_before_keep_their_names() -> None:
    assert Place.of("US", "TX").region == "Texas"
    assert Place.of("US", "Virgin Islands").region_key == "vi"  # the schema's name of the territory
    assert Place.of("CA", "Québec").region == "Quebec"
    assert Place.of("AU", "nsw").region == "New South Wales"
    assert Place.of("GB", "Wales").region == "Wales"
    assert Place.of("US", "washington dc").region == "District of Columbia"
    assert country_name("GB") == "United Kingdom" and country_code("UK") == "GB"
    assert country_code("XK") == "XK"  # on the schema's list, not in ISO 3166-1


def test_a_german_address_in_a_report_is_located_in_its_state() -> None:
    report = ReportContent.model_validate({
        "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts",
                            "incidentDateTime": "2026-10-15T08:00:00Z"},
        "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Team"}},
        "victim": [{"victimPerson": {"firstName": "Robin", "age": 13, "address": [
            {"address": "1 Beispielstraße", "city": "Leipzig", "nonUsaState": "Sachsen", "country": "DE",
             "type": "Home"}]}}],
    })
    resolution = locate(report, ClueContext(gazetteer=Gazetteer.standard()))
    assert resolution.best == Place.of("DE", "SN", "Leipzig")
    assert resolution.best is not None and resolution.best.describe() == "Leipzig, Sachsen, Germany"
