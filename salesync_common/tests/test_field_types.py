"""Names people read: normalised to NFC before they are measured, stored or compared, and refused with
a 400 naming the field when they hide control or format characters."""
import unicodedata

import pytest
from pydantic import BaseModel, ValidationError

from salesync_common.field_types import name_text


class Named(BaseModel):
    name: name_text(1, 4)


@pytest.mark.parametrize("sent,kept", [
    ("카페", "카페"), (unicodedata.normalize("NFD", "카페"), "카페"), ("Cafe\u0301", "Café"), ("  카페 \n", "카페"),
    ("Ω", "Ω"),  # U+2126 OHM SIGN is a singleton: NFC makes it GREEK CAPITAL OMEGA
], ids=["composed", "jamo", "combining accent", "surrounding white space", "ohm sign"])
def test_a_name_is_kept_in_normal_form_c(sent, kept):
    assert Named(name=sent).name == kept == unicodedata.normalize("NFC", kept)


def test_the_length_is_measured_after_normalising():
    # Four syllables typed as ten jamo fit a four-character name.
    assert Named(name=unicodedata.normalize("NFD", "가나다라")).name == "가나다라"


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202a", "\u202e",
                                  "\u2066", "\u2069", "\u061c", "\x00", "\x07", "\t", "\x7f", "\x9b", "\u2028",
                                  "\u2029"])
def test_a_control_or_format_character_inside_a_name_is_refused_by_code_point(char):
    with pytest.raises(ValidationError) as refused:
        Named(name=f"가{char}나")
    error = refused.value.errors()[0]
    assert error["loc"] == ("name",)
    assert f"U+{ord(char):04X}" in error["msg"] and "invisible" in error["msg"]


@pytest.mark.parametrize("char", ["\u3164", "\u115f", "\u1160", "\uffa0", "\u034f", "\ufe00", "\ufe0f",
                                  "\U000e0100", "\U000e01ef", "\U000e0001", "\u2800", "\u17b4", "\u180b",
                                  "\U0001bca0", "\U0001d173", "\ufff0"])
def test_a_default_ignorable_or_blank_character_inside_a_name_is_refused_by_code_point(char):
    with pytest.raises(ValidationError) as refused:
        Named(name=f"가{char}나")
    error = refused.value.errors()[0]
    assert error["loc"] == ("name",)
    assert f"U+{ord(char):04X}" in error["msg"] and "invisible" in error["msg"]


@pytest.mark.parametrize("sent", ["\u3164", "\u2800", " \u115f\u1160 ", "\u3000\u00a0", "\u200b", "\ufe0f "])
def test_a_name_showing_no_character_is_refused(sent):
    with pytest.raises(ValidationError) as refused:
        Named(name=sent)
    error = refused.value.errors()[0]
    assert error["loc"] == ("name",) and "visible character" in error["msg"]


def test_visible_neighbours_of_the_ignorable_ranges_are_names():
    # The last Hangul jamo before the fillers, a hangul letter after the hangul filler, a braille dot
    # pattern beside the blank, and ideographic text after the variation selectors are ordinary characters.
    for name in ("\u115e", "\u3165", "\u2801", "\ufe10", "가\u1161"):
        assert Named(name=name).name == unicodedata.normalize("NFC", name)
