"""Collections and submission windows (config/collections.py): Europe/London times, window placement."""
from datetime import date, datetime, timedelta, timezone

import pytest

from config.collections import (
    collection_for_format, london_to_utc, load_collections, parse_collections,
)
from config.settings import PACKAGE_DIR
from intake.demo_world import collections_toml

UTC = timezone.utc

KS1_2026 = """
[[collection]]
key = "ks1-2026"
name = "KS1 results 2026"
format = "ks1-template"
census_date = 2026-05-31
opens = 2026-06-01T00:00:00
final_close = 2026-07-31T23:59:59

  [[collection.window]]
  number = 1
  closes = 2026-07-03T23:59:59
  reports_by = 2026-07-10T17:00:00

  [[collection.window]]
  number = 2
  closes = 2026-07-17T23:59:59
  reports_by = 2026-07-24T17:00:00

  [[collection.window]]
  number = 3
  closes = 2026-07-31T23:59:59
  reports_by = 2026-08-14T17:00:00
"""

KS1_2027 = """
[[collection]]
key = "ks1-2027"
name = "KS1 results 2027"
format = "ks1-template"
opens = 2027-06-01T00:00:00
final_close = 2027-07-30T23:59:59

  [[collection.window]]
  number = 1
  closes = 2027-07-30T23:59:59
  reports_by = 2027-08-13T17:00:00
"""

KS2_2026 = """
[[collection]]
key = "ks2-2026"
name = "KS2 early results 2026"
format = "ks2-csv"
opens = 2026-07-07T00:00:00

  [[collection.window]]
  number = 1
  closes = 2026-07-24T23:59:59
  reports_by = 2026-07-31T17:00:00
"""


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def ks1():
    return parse_collections(KS1_2026)["ks1-2026"]


# --- parsing -----------------------------------------------------------------------------------

def test_a_collection_is_parsed_with_its_key_name_format_census_date_and_numbered_windows(ks1):
    assert (ks1.key, ks1.name, ks1.formats) == ("ks1-2026", "KS1 results 2026", ("ks1-template",))
    assert ks1.census_date == date(2026, 5, 31)
    assert [w.number for w in ks1.windows] == [1, 2, 3]


def test_a_summer_time_is_a_london_wall_clock_time_an_hour_ahead_of_utc(ks1):
    assert ks1.window(1).closes == utc(2026, 7, 3, 22, 59, 59)
    assert ks1.window(1).reports_by == utc(2026, 7, 10, 16, 0)
    assert ks1.opens == utc(2026, 5, 31, 23, 0)
    assert ks1.final_close == utc(2026, 7, 31, 22, 59, 59)


def test_every_parsed_time_is_timezone_aware_utc(ks1):
    for moment in [ks1.opens, ks1.final_close] + [w.closes for w in ks1.windows]:
        assert moment.utcoffset() == timedelta(0)


def test_a_winter_london_time_equals_utc():
    assert london_to_utc(datetime(2026, 1, 15, 12, 0)) == utc(2026, 1, 15, 12, 0)


def test_a_time_that_already_has_an_offset_is_kept_as_that_instant():
    aware = datetime(2026, 7, 3, 23, 59, 59, tzinfo=timezone(timedelta(hours=1)))
    assert london_to_utc(aware) == utc(2026, 7, 3, 22, 59, 59)


def test_windows_are_ordered_by_deadline_whatever_order_they_are_written_in():
    text = KS2_2026.replace("""  [[collection.window]]
  number = 1
  closes = 2026-07-24T23:59:59""", """  [[collection.window]]
  number = 2
  closes = 2026-07-31T23:59:59
  reports_by = 2026-08-07T17:00:00

  [[collection.window]]
  number = 1
  closes = 2026-07-24T23:59:59""")
    collection = parse_collections(text)["ks2-2026"]
    assert [w.number for w in collection.windows] == [1, 2]


def test_without_a_final_close_the_service_closes_with_its_last_window():
    collection = parse_collections(KS2_2026)["ks2-2026"]
    assert collection.final_close == collection.windows[-1].closes == utc(2026, 7, 24, 22, 59, 59)
    assert collection.census_date is None


def test_a_collection_without_windows_is_refused():
    with pytest.raises(ValueError, match="has no windows"):
        parse_collections('[[collection]]\nkey = "x"\nname = "X"\nformat = "ks1-template"\n'
                          "opens = 2026-06-01T00:00:00\n")


def test_a_collection_key_defined_twice_is_refused():
    with pytest.raises(ValueError, match="defined twice"):
        parse_collections(KS1_2026 + KS1_2026)


def test_several_collections_are_keyed_by_their_key():
    assert list(parse_collections(KS1_2026 + KS1_2027 + KS2_2026)) == ["ks1-2026", "ks1-2027", "ks2-2026"]


def test_the_shipped_collections_file_has_every_service_with_windows_ending_at_the_final_close():
    from workers.validators import VALIDATORS
    collections = load_collections(PACKAGE_DIR / "collections.toml")
    assert set(collections) == {"ks1-2026", "ks1-2027", "ks2-2027", "ks4-2027", "ctf-2027"}
    for collection in collections.values():
        assert set(collection.formats) <= set(VALIDATORS)
        assert collection.final_close == collection.windows[-1].closes
    assert [w.number for w in collections["ks1-2026"].windows] == [1, 2, 3]
    assert collections["ks4-2027"].requires_confirmation
    assert collections["ks4-2027"].formats == ("ks4-gcse", "ks4-non-gcse")


def test_the_demo_collection_has_window_1_open_now():
    now = datetime.now(UTC)
    demo = parse_collections(collections_toml(now))["ks1-demo"]
    assert demo.window_for(now).number == 1


# --- window_for ---------------------------------------------------------------------------------

def test_a_file_before_the_service_opens_is_in_no_window(ks1):
    assert ks1.window_for(utc(2026, 5, 31, 22, 59, 59)) is None


def test_a_file_at_the_moment_the_service_opens_is_in_window_1(ks1):
    assert ks1.window_for(utc(2026, 5, 31, 23, 0)).number == 1


def test_a_file_inside_window_1_is_in_window_1(ks1):
    assert ks1.window_for(utc(2026, 6, 20, 12, 0)).number == 1


def test_a_file_at_half_past_eleven_on_window_1s_last_evening_london_time_is_in_window_1(ks1):
    assert ks1.window_for(utc(2026, 7, 3, 22, 30)).number == 1


def test_a_file_at_window_1s_deadline_is_still_in_window_1(ks1):
    assert ks1.window_for(utc(2026, 7, 3, 22, 59, 59)).number == 1


def test_a_file_just_after_window_1_closes_is_in_window_2(ks1):
    assert ks1.window_for(utc(2026, 7, 3, 23, 0, 0)).number == 2
    assert ks1.window_for(utc(2026, 7, 3, 22, 59, 59, 1)).number == 2


def test_a_file_in_a_window_that_was_closed_early_goes_to_the_next_window(ks1):
    assert ks1.window_for(utc(2026, 6, 20, 12, 0), closed=frozenset({1})).number == 2
    assert ks1.window_for(utc(2026, 6, 20, 12, 0), closed=frozenset({1, 2})).number == 3


def test_a_file_when_every_remaining_window_is_closed_is_in_no_window(ks1):
    assert ks1.window_for(utc(2026, 7, 20, 12, 0), closed=frozenset({3})) is None


def test_a_file_after_the_final_close_is_in_no_window(ks1):
    assert ks1.window_for(utc(2026, 7, 31, 23, 0)) is None
    assert ks1.window_for(utc(2027, 1, 1)) is None


def test_a_window_is_found_by_number_and_an_unknown_number_is_a_key_error(ks1):
    assert ks1.window(2).closes == utc(2026, 7, 17, 22, 59, 59)
    with pytest.raises(KeyError):
        ks1.window(4)


# --- refusal -----------------------------------------------------------------------------------

def test_a_file_before_the_service_opens_is_told_when_it_opens_in_london_time(ks1):
    message = ks1.refusal(utc(2026, 5, 1))
    assert message == ("The KS1 results 2026 service opens on 01/06/2026 at 00:00; "
                       "please send the file again then.")


def test_a_file_after_the_service_closed_is_told_it_closed_in_london_time(ks1):
    message = ks1.refusal(utc(2026, 8, 1))
    assert message == ("The KS1 results 2026 service closed on 31/07/2026 at 23:59; "
                       "files can no longer be accepted.")


# --- collection_for_format ---------------------------------------------------------------------

@pytest.fixture
def collections():
    # Written out of date order on purpose: the choice must not depend on the file's order.
    return parse_collections(KS2_2026 + KS1_2027 + KS1_2026)


def test_a_file_received_during_a_collection_belongs_to_that_collection(collections):
    assert collection_for_format(collections, "ks1-template", utc(2026, 7, 1)).key == "ks1-2026"
    assert collection_for_format(collections, "ks1-template", utc(2027, 6, 15)).key == "ks1-2027"


def test_a_file_of_another_format_picks_its_own_formats_collection(collections):
    assert collection_for_format(collections, "ks2-csv", utc(2026, 7, 10)).key == "ks2-2026"


def test_a_late_file_belongs_to_the_most_recently_closed_collection(collections):
    assert collection_for_format(collections, "ks1-template", utc(2026, 12, 1)).key == "ks1-2026"
    assert collection_for_format(collections, "ks1-template", utc(2028, 1, 1)).key == "ks1-2027"


def test_an_early_file_belongs_to_the_first_collection_to_open(collections):
    assert collection_for_format(collections, "ks1-template", utc(2026, 1, 1)).key == "ks1-2026"


def test_a_format_with_no_collection_has_none(collections):
    assert collection_for_format(collections, "ctf-xml", utc(2026, 7, 1)) is None
    assert collection_for_format({}, "ks1-template", utc(2026, 7, 1)) is None


def test_a_file_arriving_when_every_remaining_window_was_closed_early_is_not_told_the_service_closed():
    from datetime import datetime, timedelta, timezone
    from config.collections import parse_collections
    from intake.demo_world import collections_toml
    now = datetime.now(timezone.utc)
    collection = parse_collections(collections_toml(now))["ks1-demo"]
    assert collection.window_for(now, closed=frozenset({1, 2, 3})) is None
    message = collection.refusal(now)
    assert "No submission window" in message and "closed on" not in message
    assert "closed on" in collection.refusal(collection.final_close + timedelta(seconds=1))


def test_a_collection_with_two_templates_keeps_one_stream_per_format_and_one_template_a_single_stream():
    from datetime import datetime, timezone
    from config.collections import parse_collections
    from intake.demo_world import collections_toml
    text = collections_toml(datetime.now(timezone.utc), key="ks4-demo").replace(
        'format = "ks1-template"', 'formats = ["ks4-gcse", "ks4-non-gcse"]')
    ks4 = parse_collections(text)["ks4-demo"]
    assert ks4.formats == ("ks4-gcse", "ks4-non-gcse")
    assert (ks4.stream_for("ks4-gcse"), ks4.stream_for("ks4-non-gcse")) == ("ks4-gcse", "ks4-non-gcse")
    single = parse_collections(collections_toml(datetime.now(timezone.utc)))["ks1-demo"]
    assert single.stream_for("ks1-template") == "main"
