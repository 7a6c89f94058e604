"""Working calendars as pure arithmetic: figures computed by hand.

They cover weekends, holidays, closing days, timezones, the DST change days, 24/7, lunch breaks,
a 10-working-day target and tickets opened outside working hours; the properties over random
moments are in tests/test_sla_calendar_properties.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from helpdesk.gateway.sla.calendar import WorkingCalendar, check_country, parse_hours

HOUR = 3600
PRAGUE, WARSAW = ZoneInfo("Europe/Prague"), ZoneInfo("Europe/Warsaw")
WEEKDAYS = range(5)
OFFICE = ((time(8), time(17)),)
LUNCH_BREAK = ((time(8), time(12)), (time(13), time(17)))
ALL_DAY = ((time(0), time(0)),)


def calendar(zone=PRAGUE, hours=OFFICE, days=WEEKDAYS, country=None, closed=(), name="office") -> WorkingCalendar:
    return WorkingCalendar(name, zone, {day: hours for day in days}, country, frozenset(closed))


def local(zone: ZoneInfo, *fields: int, fold: int = 0) -> datetime:
    """A local wall-clock time as the aware UTC datetime the calendar takes."""
    return datetime(*fields, tzinfo=zone, fold=fold).astimezone(UTC)


def prague(*fields: int) -> datetime:
    return local(PRAGUE, *fields)


# --- business hours, weekends, outside hours ---------------------------------------------------

def test_four_hours_from_friday_16_fall_due_monday_11():
    office = calendar()
    opened = prague(2026, 6, 12, 16)  # a Friday
    assert office.add_working(opened, 4 * HOUR) == datetime(2026, 6, 15, 9, tzinfo=UTC)  # Monday 11:00 CEST
    assert office.working_seconds(opened, prague(2026, 6, 15, 11)) == 4 * HOUR
    assert office.working_seconds(opened, prague(2026, 6, 14, 23, 59)) == 1 * HOUR  # the weekend adds nothing


def test_a_ticket_opened_on_saturday_counts_from_monday_8():
    office = calendar()
    saturday = prague(2026, 6, 13, 10, 30)
    assert office.next_working_moment(saturday) == prague(2026, 6, 15, 8)
    assert office.add_working(saturday, 4 * HOUR) == prague(2026, 6, 15, 12)
    assert office.working_seconds(saturday, prague(2026, 6, 15, 8)) == 0
    assert office.working_seconds(saturday, prague(2026, 6, 15, 8, 0, 1)) == 1


def test_before_and_after_the_working_day():
    office = calendar()
    assert office.add_working(prague(2026, 6, 16, 6, 30), HOUR) == prague(2026, 6, 16, 9)
    assert office.add_working(prague(2026, 6, 16, 18), HOUR) == prague(2026, 6, 17, 9)
    assert office.next_working_moment(prague(2026, 6, 16, 17)) == prague(2026, 6, 17, 8)  # 17:00 is already closed
    inside = prague(2026, 6, 16, 12, 34, 56)
    assert office.next_working_moment(inside) == inside


def test_time_running_out_at_closing_time_is_due_at_closing_time():
    office = calendar()
    assert office.add_working(prague(2026, 6, 16, 16), HOUR) == prague(2026, 6, 16, 17)
    assert office.add_working(prague(2026, 6, 16, 16), HOUR + 1) == prague(2026, 6, 17, 8, 0, 1)


def test_no_time_to_add_is_due_at_once_even_outside_hours():
    saturday = prague(2026, 6, 13, 10)
    assert calendar().add_working(saturday, 0) == saturday
    assert calendar().add_working(saturday, -5) == saturday


def test_the_working_hours_are_those_of_the_calendars_zone():
    new_york = calendar(zone=ZoneInfo("America/New_York"))
    assert new_york.next_working_moment(datetime(2026, 6, 16, 7, tzinfo=UTC)) == datetime(2026, 6, 16, 12, tzinfo=UTC)
    assert new_york.add_working(datetime(2026, 6, 16, 20, tzinfo=UTC), 2 * HOUR) == datetime(2026, 6, 17, 13,
                                                                                            tzinfo=UTC)
    # Monday 01:00 UTC is still Sunday evening in New York: the week starts 11 hours later.
    assert new_york.working_seconds(datetime(2026, 6, 15, 1, tzinfo=UTC), datetime(2026, 6, 15, 13, tzinfo=UTC)) \
        == HOUR


# --- lunch breaks: split intervals --------------------------------------------------------------

def test_a_lunch_break_does_not_count():
    lunch = calendar(hours=LUNCH_BREAK)
    assert lunch.add_working(prague(2026, 6, 16, 11), 2 * HOUR) == prague(2026, 6, 16, 14)
    assert lunch.add_working(prague(2026, 6, 16, 11), HOUR) == prague(2026, 6, 16, 12)
    assert lunch.working_seconds(prague(2026, 6, 16, 11), prague(2026, 6, 16, 14)) == 2 * HOUR
    assert lunch.next_working_moment(prague(2026, 6, 16, 12, 30)) == prague(2026, 6, 16, 13)
    assert lunch.add_working(prague(2026, 6, 16, 12, 30), HOUR) == prague(2026, 6, 16, 14)
    assert lunch.working_seconds(prague(2026, 6, 15, 0), prague(2026, 6, 20, 0)) == 5 * 8 * HOUR


# --- holidays and closing days --------------------------------------------------------------------

def test_a_czech_public_holiday_is_skipped():
    office = calendar(country="CZ")
    assert not office.is_working_day(date(2026, 10, 28))  # Independent Czechoslovak State Day, a Wednesday
    assert office.add_working(prague(2026, 10, 27, 16), 4 * HOUR) == prague(2026, 10, 29, 11)
    assert office.working_seconds(prague(2026, 10, 27, 16), prague(2026, 10, 29, 11)) == 4 * HOUR
    assert calendar().add_working(prague(2026, 10, 27, 16), 4 * HOUR) == prague(2026, 10, 28, 11)


def test_a_polish_public_holiday_is_skipped():
    office = calendar(zone=WARSAW, country="PL")
    assert not office.is_working_day(date(2026, 11, 11))  # National Independence Day, a Wednesday
    assert office.add_working(local(WARSAW, 2026, 11, 10, 16), 4 * HOUR) == local(WARSAW, 2026, 11, 12, 11)


def test_a_regional_holiday_holds_in_its_region_only():
    bavaria, berlin = calendar(country="DE-BY"), calendar(country="DE-BE")
    assert not bavaria.is_working_day(date(2026, 1, 6)) and berlin.is_working_day(date(2026, 1, 6))  # Epiphany
    assert bavaria.add_working(prague(2026, 1, 5, 16), 2 * HOUR) == prague(2026, 1, 7, 9)
    assert berlin.add_working(prague(2026, 1, 5, 16), 2 * HOUR) == prague(2026, 1, 6, 9)


def test_closing_days_and_holidays_over_new_year():
    office = calendar(country="CZ", closed=[date(2026, 12, 31)])
    assert not office.is_working_day(date(2026, 12, 31))   # the provider's own closing day
    assert not office.is_working_day(date(2027, 1, 1))     # New Year's Day
    assert not office.is_working_day(date(2027, 1, 2))     # a Saturday
    assert office.is_working_day(date(2026, 12, 30)) and office.is_working_day(date(2027, 1, 4))
    assert office.add_working(prague(2026, 12, 30, 16), 4 * HOUR) == prague(2027, 1, 4, 11)
    assert office.working_seconds(prague(2026, 12, 30, 0), prague(2027, 1, 5, 0)) == 2 * 9 * HOUR


def test_a_closing_day_without_holidays_is_skipped():
    office = calendar(closed=[date(2026, 6, 17)])
    assert office.add_working(prague(2026, 6, 16, 16), 2 * HOUR) == prague(2026, 6, 18, 9)


# --- 10 working days ------------------------------------------------------------------------------

def test_ten_working_days_are_two_plain_weeks():
    lunch = calendar(hours=LUNCH_BREAK, country="CZ")
    assert lunch.add_working(prague(2026, 6, 8, 8), 10 * 8 * HOUR) == prague(2026, 6, 19, 17)
    assert lunch.working_seconds(prague(2026, 6, 8, 8), prague(2026, 6, 19, 17)) == 10 * 8 * HOUR


def test_ten_working_days_over_christmas_and_new_year():
    # Dec 17, 18, 21, 22, 23, 28, 29, 30, 31, Jan 4: the 24th, 25th and 1st are Czech holidays.
    lunch = calendar(hours=LUNCH_BREAK, country="CZ")
    assert lunch.add_working(prague(2026, 12, 17, 8), 10 * 8 * HOUR) == prague(2027, 1, 4, 17)
    assert lunch.working_seconds(prague(2026, 12, 17, 8), prague(2027, 1, 5, 8)) == 10 * 8 * HOUR


def test_a_year_of_working_time_counts_every_holiday_and_dst_change():
    office = calendar(country="CZ")
    czech_2026 = holidays.country_holidays("CZ", years=2026)
    working_days = sum(1 for n in range(365) if (day := date(2026, 1, 1) + timedelta(n)).weekday() < 5
                       and day not in czech_2026)
    assert working_days == 250  # 261 weekdays, 11 of them holidays
    assert office.working_seconds(prague(2026, 1, 1), prague(2027, 1, 1)) == working_days * 9 * HOUR
    assert office.add_working(prague(2026, 1, 1), working_days * 9 * HOUR) == prague(2026, 12, 31, 17)


# --- 24/7 ------------------------------------------------------------------------------------------

def test_around_the_clock_is_the_wall_clock():
    always = WorkingCalendar.around_the_clock()
    saturday_night = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # and the Prague DST night after it
    assert always.add_working(saturday_night, 4 * HOUR) == saturday_night + timedelta(hours=4)
    assert always.working_seconds(saturday_night, saturday_night + timedelta(days=10)) == 10 * 24 * HOUR
    assert always.next_working_moment(saturday_night) == saturday_night
    assert always.is_working_day(date(2026, 12, 25)) and always.name == "24/7"


def test_around_the_clock_ignores_hours_holidays_and_closing_days():
    always = WorkingCalendar("support-247", PRAGUE, {0: OFFICE}, "CZ", frozenset({date(2026, 6, 16)}), always=True)
    start = prague(2026, 10, 27, 16)
    assert always.working_seconds(start, prague(2026, 10, 29, 16)) == 48 * HOUR
    assert always.is_working_day(date(2026, 10, 28)) and always.is_working_day(date(2026, 6, 16))


# --- DST change days ---------------------------------------------------------------------------------

def test_a_day_of_working_time_on_the_dst_change_days_has_23_and_25_hours():
    all_days = calendar(hours=ALL_DAY, days=range(7), name="all-days")
    assert all_days.working_seconds(prague(2026, 3, 28), prague(2026, 3, 29)) == 24 * HOUR
    assert all_days.working_seconds(prague(2026, 3, 29), prague(2026, 3, 30)) == 23 * HOUR
    assert all_days.working_seconds(prague(2026, 10, 25), prague(2026, 10, 26)) == 25 * HOUR
    assert all_days.add_working(prague(2026, 3, 29), 23 * HOUR) == prague(2026, 3, 30)
    assert all_days.add_working(prague(2026, 10, 25), 25 * HOUR) == prague(2026, 10, 26)
    assert all_days.working_seconds(prague(2026, 3, 23), prague(2026, 3, 30)) == (7 * 24 - 1) * HOUR


def test_business_hours_keep_their_local_start_across_the_dst_weekends():
    office = calendar()
    # Friday 16:00 CET is 15:00 UTC; Monday 11:00 CEST is 09:00 UTC.
    assert office.add_working(prague(2026, 3, 27, 16), 4 * HOUR) == datetime(2026, 3, 30, 9, tzinfo=UTC)
    assert office.next_working_moment(prague(2026, 3, 28, 12)) == datetime(2026, 3, 30, 6, tzinfo=UTC)
    # Friday 16:00 CEST is 14:00 UTC; Monday 11:00 CET is 10:00 UTC.
    assert office.add_working(prague(2026, 10, 23, 16), 4 * HOUR) == datetime(2026, 10, 26, 10, tzinfo=UTC)
    assert office.working_seconds(prague(2026, 10, 23, 16), datetime(2026, 10, 26, 10, tzinfo=UTC)) == 4 * HOUR


def test_hours_over_the_changed_hour_count_what_the_clock_shows():
    night = calendar(hours=((time(1), time(4)),), days=[6], name="sunday-night")
    assert night.working_seconds(prague(2026, 3, 29), prague(2026, 3, 30)) == 2 * HOUR   # 02:00-03:00 never happens
    assert night.working_seconds(prague(2026, 10, 25), prague(2026, 10, 26)) == 4 * HOUR  # 02:00-03:00 happens twice
    assert night.add_working(prague(2026, 3, 29), 2 * HOUR) == datetime(2026, 3, 29, 2, tzinfo=UTC)  # 04:00 CEST
    assert night.add_working(prague(2026, 10, 25), 4 * HOUR) == datetime(2026, 10, 25, 3, tzinfo=UTC)  # 04:00 CET


def test_a_boundary_in_a_skipped_or_repeated_hour_is_read_with_fold_0():
    gap_start = calendar(hours=((time(2, 30), time(5)),), days=[6], name="gap-start")
    # 02:30 does not exist on 2026-03-29: fold=0 reads it with CET, i.e. 01:30 UTC (03:30 CEST).
    assert gap_start.next_working_moment(prague(2026, 3, 29)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert gap_start.working_seconds(prague(2026, 3, 29), prague(2026, 3, 30)) == 90 * 60
    swallowed = calendar(hours=((time(2, 30), time(3)),), days=[6], name="swallowed")
    # 02:30 (read as 01:30 UTC) comes after 03:00 CEST (01:00 UTC): the span is empty that day.
    assert swallowed.working_seconds(prague(2026, 3, 29), prague(2026, 3, 30)) == 0
    assert swallowed.working_seconds(prague(2026, 3, 22), prague(2026, 3, 23)) == 30 * 60
    repeated = calendar(hours=((time(2, 30), time(3, 30)),), days=[6], name="repeated")
    # 02:30 on 2026-10-25 happens twice: fold=0 is the first (CEST, 00:30 UTC); 03:30 CET is 02:30 UTC.
    assert repeated.next_working_moment(prague(2026, 10, 25)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert repeated.working_seconds(prague(2026, 10, 25), prague(2026, 10, 26)) == 2 * HOUR
    overlapping = calendar(hours=((time(1), time(2, 30)), (time(3), time(4))), days=[6], name="overlapping")
    # 02:30 read with CET (01:30 UTC) is later than 03:00 CEST (01:00 UTC): the second span starts
    # where the first ends, so no second is counted twice and 01:00 CET-04:00 CEST is 2 hours.
    assert overlapping.working_seconds(prague(2026, 3, 29), prague(2026, 3, 30)) == 2 * HOUR
    assert overlapping.add_working(prague(2026, 3, 29), 90 * 60) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_change_at_midnight_keeps_the_days_apart():
    # Santiago: on 2026-09-06 midnight jumps to 01:00; on 2026-04-05 the Saturday's 23:00-24:00 repeats.
    santiago = ZoneInfo("America/Santiago")
    all_days = calendar(zone=santiago, hours=ALL_DAY, days=range(7), name="all-days")
    assert all_days.working_seconds(local(santiago, 2026, 9, 6), local(santiago, 2026, 9, 7)) == 23 * HOUR
    assert all_days.working_seconds(local(santiago, 2026, 4, 4), local(santiago, 2026, 4, 5)) == 25 * HOUR
    weekends = calendar(zone=santiago, hours=ALL_DAY, days=[5], name="saturdays")
    second_2330 = local(santiago, 2026, 4, 4, 23, 30, fold=1)
    assert weekends.add_working(second_2330, 30 * 60) == local(santiago, 2026, 4, 5)
    assert weekends.next_working_moment(second_2330) == second_2330


# --- input checks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda c: c.working_seconds(datetime(2026, 6, 15, 9), datetime(2026, 6, 15, 10, tzinfo=UTC)),
    lambda c: c.working_seconds(datetime(2026, 6, 15, 9, tzinfo=UTC), datetime(2026, 6, 15, 10)),
    lambda c: c.add_working(datetime(2026, 6, 15, 9), HOUR),
    lambda c: c.add_working(datetime(2026, 6, 15, 9), 0),
    lambda c: c.next_working_moment(datetime(2026, 6, 15, 9)),
])
@pytest.mark.parametrize("cal", [calendar(), WorkingCalendar.around_the_clock()], ids=["office", "24/7"])
def test_a_naive_datetime_is_refused(cal, call):
    with pytest.raises(ValueError, match=r"^naive datetime 2026-06-15T(09|10):00:00: SLA times must be timezone-aware"):
        call(cal)


def test_a_fraction_of_a_second_is_dropped():
    office = calendar()
    start = prague(2026, 6, 16, 9) + timedelta(microseconds=900_000)
    assert office.working_seconds(start, start + timedelta(seconds=1, microseconds=200_000)) == 2
    assert office.add_working(start, 1) == prague(2026, 6, 16, 9, 0, 1)


def test_a_moment_in_another_zone_is_taken_as_the_same_instant():
    office = calendar()
    opened = datetime(2026, 6, 12, 16, tzinfo=PRAGUE)
    assert office.add_working(opened, 4 * HOUR) == datetime(2026, 6, 15, 9, tzinfo=UTC)
    assert office.add_working(opened, 4 * HOUR).tzinfo is UTC


def test_a_calendar_without_working_time_says_so():
    closed = calendar(days=[], name="closed")
    with pytest.raises(ValueError, match=r"^calendar 'closed' has no working time in the 732 days after"):
        closed.add_working(prague(2026, 6, 16, 9), HOUR)
    with pytest.raises(ValueError, match="has no working time"):
        closed.next_working_moment(prague(2026, 6, 16, 9))
    assert closed.working_seconds(prague(2026, 6, 16), prague(2027, 6, 16)) == 0


def test_a_calendar_whose_every_working_day_is_closed_says_so():
    mondays = [date(2026, 6, 15) + timedelta(weeks=n) for n in range(200)]
    never = calendar(days=[0], closed=mondays, name="never")
    with pytest.raises(ValueError, match=r"^calendar 'never' has no working time"):
        never.add_working(prague(2026, 6, 15, 9), HOUR)
    with pytest.raises(ValueError, match=r"^calendar 'never' has no working time"):
        never.next_working_moment(prague(2026, 6, 15, 9))
    rarely = calendar(days=[0], closed=mondays[:100], name="rarely")  # the first open Monday is 700 days on
    assert rarely.add_working(prague(2026, 6, 15, 9), HOUR) == prague(2028, 5, 15, 9)
    assert rarely.next_working_moment(prague(2026, 6, 15, 9)) == prague(2028, 5, 15, 8)


@pytest.mark.parametrize("hours, error", [
    ({7: OFFICE}, r"^calendar 'office': weekday 7 is not 0 \(Monday\) to 6 \(Sunday\)$"),
    ({0: ((time(12), time(8)),)}, r"^calendar 'office', Monday: 12:00-08:00 must end after it starts$"),
    ({2: ((time(8), time(12)), (time(11), time(13)))},
     r"^calendar 'office', Wednesday: 11:00-13:00 overlaps or precedes the interval before it$"),
    ({4: ((time(13), time(17)), (time(8), time(12)))},
     r"^calendar 'office', Friday: 08:00-12:00 overlaps or precedes the interval before it$"),
    ({0: ((time(8, tzinfo=UTC), time(12)),)}, r"^calendar 'office', Monday: times must be local"),
])
def test_bad_working_hours_are_refused_in_one_line(hours, error):
    with pytest.raises(ValueError, match=error):
        WorkingCalendar("office", PRAGUE, hours)


def test_holiday_countries_are_checked():
    for known in ("PL", "CZ", "DE-BY"):
        check_country(known)  # no error
    with pytest.raises(ValueError, match=r"^unknown holiday country 'XX'$"):
        check_country("XX")
    with pytest.raises(ValueError, match=r"^unknown holiday country 'DE-XX': DE has no subdivision 'XX'$"):
        check_country("DE-XX")
    with pytest.raises(ValueError, match=r"^unknown holiday country 'XX'$"):
        calendar(country="XX")


def test_a_calendar_keeps_its_own_copy_of_the_hours():
    hours = {0: OFFICE}
    office = WorkingCalendar("office", PRAGUE, hours)
    hours[1] = OFFICE
    assert not office.is_working_day(date(2026, 6, 16)) and office.is_working_day(date(2026, 6, 15))
    assert office == WorkingCalendar("office", PRAGUE, {0: OFFICE}) and len({office, office}) == 1


# --- parse_hours -------------------------------------------------------------------------------------

def test_working_hours_are_parsed():
    assert parse_hours("08:00-12:00, 13:00-17:00") == LUNCH_BREAK
    assert parse_hours("13:00-17:00,8:00-12:00") == LUNCH_BREAK  # put in order
    assert parse_hours("00:00-24:00") == ALL_DAY
    assert parse_hours(" 22:30 - 24:00 ") == ((time(22, 30), time(0)),)


@pytest.mark.parametrize("text, error", [
    ("8-12", r"^working hours '8-12': '8-12' is not like 08:00-12:00$"),
    ("08:00-12:00; 13:00-17:00", r"is not like 08:00-12:00$"),
    ("", r"^working hours '': '' is not like 08:00-12:00$"),
    ("08:00-12:00,", r"'' is not like 08:00-12:00$"),
    ("12:00-08:00", r"^working hours '12:00-08:00': 12:00-08:00 must end after it starts$"),
    ("09:00-09:00", r"09:00-09:00 must end after it starts$"),
    ("08:00-12:00, 11:00-13:00", r"^working hours '08:00-12:00, 11:00-13:00': 11:00-13:00 overlaps"),
    ("22:00-00:00", r"^working hours '22:00-00:00': write 24:00, not 00:00, for an end at midnight$"),
    ("08:60-09:00", r"'08:60-09:00' is not a time of day$"),
    ("24:00-24:00", r"'24:00-24:00' is not a time of day$"),
    ("23:00-24:30", r"'23:00-24:30' is not a time of day$"),
])
def test_bad_working_hours_text_is_refused_in_one_line(text, error):
    with pytest.raises(ValueError, match=error):
        parse_hours(text)
