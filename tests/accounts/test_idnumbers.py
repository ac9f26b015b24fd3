"""ID numbers (GB 11643): every real citizen's number is accepted; each mistake is named."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import ric

from accounts.forms import IdNumberField
from accounts.idnumbers import make_id_number, mask_id_number, mask_phone, validate_id_number

pytestmark = pytest.mark.usefixtures("english")

TODAY = datetime.date(2026, 11, 23)


def _with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def _ending_in_x(region: str, birth: datetime.date) -> str:
    for seq in range(1000):
        number = make_id_number(region, birth, seq)
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives X")  # pragma: no cover


def _error(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_id_number(value, today=TODAY)
    return info.value


@pytest.mark.parametrize(
    ("region", "birth", "where"),
    [
        ("110101", "1962-07-01", "Beijing Dongcheng"),
        ("310104", "1988-02-29", "Shanghai Xuhui, born on a leap day"),
        ("440106", "1999-12-31", "Guangdong Guangzhou Tianhe"),
        ("650102", "1971-05-20", "Xinjiang Urumqi Tianshan"),
        ("460105", "2003-08-08", "Hainan Haikou Xiuying"),
        ("540102", "1957-10-01", "Tibet Lhasa Chengguan"),
        ("230103", "1944-03-03", "Heilongjiang Harbin Nangang"),
        ("510107", "2020-01-01", "Sichuan Chengdu Wuhou, a child"),
        ("620102", "1930-06-15", "Gansu Lanzhou Chengguan, born in 1930"),
        ("810000", "1985-04-04", "Hong Kong resident"),
        ("830000", "1990-09-09", "residence permit for Hong Kong, Macao and Taiwan residents"),
    ],
)
def test_it_accepts_valid_numbers_from_many_regions_and_years(region, birth, where):
    birth_date = datetime.date.fromisoformat(birth)
    number = make_id_number(region, birth_date, 123)
    facts = validate_id_number(number, today=TODAY)
    assert facts.number == number, where
    assert facts.birth_date == birth_date
    assert facts.sex == "M"  # sequence 123 is odd


def test_it_reads_the_sex_from_the_17th_digit():
    assert validate_id_number(make_id_number("110101", datetime.date(1980, 1, 1), 124), today=TODAY).sex == "F"


@pytest.mark.parametrize(
    ("region", "birth"),
    [
        ("110111", "1935-05-01"),  # 房山区, code marked [1986-] in the division list
        ("130123", "1941-11-11"),  # 正定县, [1986-]
        ("130102", "1950-01-20"),  # 长安区 (Shijiazhuang), [1983-]
        ("460105", "1938-02-14"),  # 秀英区, created with Hainan province in 1988
    ],
)
def test_it_accepts_elderly_people_whose_county_code_is_younger_than_they_are(region, birth):
    number = make_id_number(region, datetime.date.fromisoformat(birth), 11)
    # python-stdnum compares the county code with the birth year and wrongly refuses them ...
    assert not ric.is_valid(number)
    # ... but the number was issued with the card, long after birth: it is a real citizen's number.
    assert validate_id_number(number, today=TODAY).birth_date == datetime.date.fromisoformat(birth)


def test_it_normalises_lower_case_x():
    number = _ending_in_x("440106", datetime.date(1966, 6, 6))
    assert validate_id_number(number[:-1] + "x", today=TODAY).number == number


def test_it_accepts_full_width_digits_and_x_from_a_chinese_keyboard():
    number = _ending_in_x("650102", datetime.date(1955, 3, 8))
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # "１２…Ｘ"
    assert validate_id_number(full_width, today=TODAY).number == number
    assert validate_id_number(full_width[:-1] + "ｘ", today=TODAY).number == number


def test_it_ignores_spaces_and_dashes_between_groups():
    number = make_id_number("310104", datetime.date(1975, 7, 7), 321)
    spaced = f" {number[:6]} {number[6:14]}\u3000{number[14:]} "
    assert validate_id_number(spaced, today=TODAY).number == number
    assert validate_id_number(f"{number[:6]}-{number[6:14]}-{number[14:]}", today=TODAY).number == number


def test_it_rejects_a_bad_checksum():
    number = make_id_number("110101", datetime.date(1980, 1, 1), 101)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    error = _error(wrong)
    assert error.code == "checksum"
    assert "last character does not match" in error.messages[0]
    assert "mistyped" in error.messages[0]


def test_it_rejects_two_swapped_digits():
    number = make_id_number("440106", datetime.date(1985, 3, 17), 246)
    swapped = number[:14] + number[15] + number[14] + number[16:]
    assert swapped != number
    assert _error(swapped).code == "checksum"


@pytest.mark.parametrize(
    ("date_digits", "shown"),
    [("19800230", "19800230"), ("19801301", "19801301"), ("19800000", "19800000"), ("19810229", "19810229")],
)
def test_it_rejects_impossible_dates(date_digits, shown):
    number = _with_check_digit(f"110101{date_digits}123")
    error = _error(number)
    assert error.code == "date"
    assert error.messages == [
        f"Digits 7 to 14 of an ID number are a birth date (YYYYMMDD); {shown} is not a real date."
    ]


def test_it_rejects_a_birth_date_before_1880():
    error = _error(_with_check_digit("110101" "18790101" "123"))
    assert error.code == "date"
    assert "1879-01-01" in error.messages[0] and "not possible" in error.messages[0]


def test_it_rejects_a_birth_date_in_the_future():
    error = _error(make_id_number("110101", TODAY + datetime.timedelta(days=1), 123))
    assert error.code == "future"
    assert error.messages == ["The birth date in this ID number (2026-11-24) is in the future."]


def test_it_accepts_a_baby_born_today():
    assert validate_id_number(make_id_number("110101", TODAY, 123), today=TODAY).birth_date == TODAY


@pytest.mark.parametrize("length", [17, 19, 10])
def test_it_rejects_the_wrong_length_and_says_how_many_characters_were_typed(length):
    number = (make_id_number("110101", datetime.date(1980, 1, 1), 101) * 2)[:length]
    error = _error(number)
    assert error.code == "length"
    assert error.messages == [
        f"An ID number has 18 characters; you entered {length}. Please check it against the card."
    ]


def test_it_explains_an_old_15_digit_number():
    error = _error("110101800101123")
    assert error.code == "length"
    assert "old 15-digit" in error.messages[0]


def test_it_rejects_letters_in_the_middle():
    number = make_id_number("110101", datetime.date(1980, 1, 1), 101)
    error = _error(number[:8] + "O" + number[9:])
    assert error.code == "format"
    assert error.messages == ["An ID number has 17 digits followed by a digit or the letter X."]


def test_it_rejects_an_unknown_province():
    error = _error(make_id_number("990101", datetime.date(1980, 1, 1), 101))
    assert error.code == "region"
    assert error.messages == ["The first two digits of an ID number name a province; 99 is not one."]


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_it_asks_for_a_number_when_there_is_none(empty):
    error = _error(empty)
    assert error.code == "required"
    assert error.messages == ["Please enter an ID number."]


def test_the_form_field_returns_the_normalised_number_and_shows_the_specific_message():
    number = _ending_in_x("540102", datetime.date(1949, 10, 1))
    field = IdNumberField()
    assert field.clean(f" {number[:-1]}x ") == number
    with pytest.raises(ValidationError) as info:
        field.clean(number[:-2] + "X")
    assert "18 characters; you entered 17" in info.value.messages[0]


def test_it_masks_numbers_for_people_who_are_not_the_owner():
    number = make_id_number("460105", datetime.date(1948, 9, 30), 42)
    assert mask_id_number(number) == number[:3] + "*" * 11 + number[-4:]
    assert mask_phone("13800000001") == "138****0001"
