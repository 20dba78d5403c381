"""Go encoding/json behaviour the API relies on (pure functions, no server)."""

from __future__ import annotations

import pytest

from lab.proxy import gojson


@pytest.mark.parametrize(
    "value, text",
    [(1.0, "1"), (0.2, "0.2"), (0.5, "0.5"), (2.5, "2.5"), (-1, "-1"), (0, "0"), (0.1, "0.1"),
     (1e-7, "1e-7"), (1e22, "1e+22"), (123456789.0, "123456790")],
)
def test_float32_is_printed_like_go(value, text):
    assert gojson.format_float32(value) == text


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "EOF"),
        (b" \n", "EOF"),
        (b"{", "unexpected EOF"),
        (b'{"a":tru', "unexpected EOF"),
        (b'{"a":trux}', "invalid character 'x' in literal true (expecting 'e')"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
        (b"[1 2]", "invalid character '2' after array element"),
        (b"{'a':1}", "invalid character '\\'' looking for beginning of object key string"),
        (b"NaN", "invalid character 'N' looking for beginning of value"),
    ],
)
def test_decode_errors_read_like_go(raw, message):
    with pytest.raises(gojson.DecodeError) as exc:
        gojson.decode(raw)
    assert str(exc.value) == message


def test_only_the_first_value_is_read():
    assert gojson.decode(b'{"a": 1} trailing garbage') == {"a": 1}


def test_dumps_is_compact_and_escapes_html():
    assert gojson.dumps({"a": "<&>", "b": [1, gojson.format_float32(0.5)]}) == (
        b'{"a":"\\u003c\\u0026\\u003e","b":[1,0.5]}'
    )


def test_assign_matches_keys_case_insensitively_and_reports_the_first_type_error():
    fields = [gojson.Field("name", "string"), gojson.Field("count", "int64")]
    values, error = gojson.assign({"NAME": "x", "count": "3", "other": 1}, fields, "T")
    assert values == {"name": "x"}
    assert error == "json: cannot unmarshal string into Go struct field T.count of type int64"
    values, error = gojson.assign({"count": 9223372036854775808}, fields, "T")
    assert error == "json: cannot unmarshal number 9223372036854775808 into Go struct field T.count of type int64"
