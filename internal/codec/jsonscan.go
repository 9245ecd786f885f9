package codec

import (
	"encoding/json"
	"hash/maphash"
	"math"
	"strconv"
	"sync/atomic"
	"unicode/utf8"
)

// A small JSON reader for the flat objects of the contract. encoding/json
// reflects over the target struct for every message, which made decoding the
// largest cost of ingest (about 7 µs a report); this walks the bytes once,
// allocates only the strings it keeps, and rejects what could hurt: nesting
// deeper than maxDepth, invalid UTF-8, numbers out of float64 range.

// valueKind is the JSON type of a value.
type valueKind uint8

const (
	kindNull valueKind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

func (k valueKind) String() string {
	return [...]string{"null", "string", "number", "bool", "object", "array"}[k]
}

// value is one member's value: its kind and raw bytes (strings with quotes).
type value struct {
	kind valueKind
	raw  []byte
}

const maxDepth = 32

type jsonError struct{ msg string }

func (e *jsonError) Error() string { return e.msg }

func malformed(msg string) error { return fieldErr("", "malformed JSON: %s", msg) }

// walkObject calls fn for every member of the top-level object in data.
func walkObject(data []byte, fn func(key []byte, v value) error) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return fieldErr("", "value is not a JSON object")
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return checkEnd(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return malformed("expected a member name")
		}
		end, err := scanString(data, i)
		if err != nil {
			return err
		}
		key := data[i+1 : end-1]
		if hasEscape(key) {
			var s string
			if json.Unmarshal(data[i:end], &s) != nil {
				return malformed("bad member name")
			}
			key = []byte(s)
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return malformed("expected ':'")
		}
		i = skipSpace(data, i+1)
		v, next, err := scanValue(data, i, 1)
		if err != nil {
			return err
		}
		if err := fn(key, v); err != nil {
			return err
		}
		i = skipSpace(data, next)
		if i >= len(data) {
			return malformed("unexpected end")
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return checkEnd(data, i+1)
		default:
			return malformed("expected ',' or '}'")
		}
	}
}

func checkEnd(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return malformed("data after the object")
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// scanString returns the index just past the closing quote of the string
// starting at data[i], checking escapes, control characters and UTF-8.
func scanString(data []byte, i int) (int, error) {
	j := i + 1
	for j < len(data) {
		c := data[j]
		switch {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			if j+1 >= len(data) {
				return 0, malformed("unterminated string")
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(data) {
					return 0, malformed("bad \\u escape")
				}
				for _, h := range data[j+2 : j+6] {
					if !isHex(h) {
						return 0, malformed("bad \\u escape")
					}
				}
				j += 6
			default:
				return 0, malformed("bad escape")
			}
		case c < 0x20:
			return 0, malformed("control character in string")
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(data[j:])
			if r == utf8.RuneError && size == 1 {
				return 0, fieldErr("", "invalid UTF-8 in a string")
			}
			j += size
		}
	}
	return 0, malformed("unterminated string")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanValue reads the value at data[i] and returns it with the index after it.
func scanValue(data []byte, i, depth int) (value, int, error) {
	if i >= len(data) {
		return value{}, 0, malformed("expected a value")
	}
	switch c := data[i]; {
	case c == '"':
		end, err := scanString(data, i)
		if err != nil {
			return value{}, 0, err
		}
		return value{kindString, data[i:end]}, end, nil
	case c == '-' || c >= '0' && c <= '9':
		end := scanNumber(data, i)
		if end == i {
			return value{}, 0, malformed("bad number")
		}
		return value{kindNumber, data[i:end]}, end, nil
	case c == 't' && hasLiteral(data, i, "true"), c == 'f' && hasLiteral(data, i, "false"):
		n := 4
		if c == 'f' {
			n = 5
		}
		return value{kindBool, data[i : i+n]}, i + n, nil
	case c == 'n' && hasLiteral(data, i, "null"):
		return value{kindNull, data[i : i+4]}, i + 4, nil
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return value{}, 0, fieldErr("", "JSON nested deeper than %d levels", maxDepth)
		}
		end, err := skipComposite(data, i, depth+1)
		if err != nil {
			return value{}, 0, err
		}
		kind := kindObject
		if c == '[' {
			kind = kindArray
		}
		return value{kind, data[i:end]}, end, nil
	}
	return value{}, 0, malformed("unexpected character")
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

// scanNumber returns the end of the JSON number at data[i], or i if none.
func scanNumber(data []byte, i int) int {
	j := i
	if j < len(data) && data[j] == '-' {
		j++
	}
	digits := func() bool {
		start := j
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		return j > start
	}
	if j < len(data) && data[j] == '0' {
		j++
	} else if !digits() {
		return i
	}
	if j < len(data) && data[j] == '.' {
		j++
		if !digits() {
			return i
		}
	}
	if j < len(data) && (data[j] == 'e' || data[j] == 'E') {
		j++
		if j < len(data) && (data[j] == '+' || data[j] == '-') {
			j++
		}
		if !digits() {
			return i
		}
	}
	return j
}

// skipComposite returns the index after the object or array at data[i].
func skipComposite(data []byte, i, depth int) (int, error) {
	open := data[i]
	closeCh := byte('}')
	if open == '[' {
		closeCh = ']'
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == closeCh {
		return i + 1, nil
	}
	for {
		if open == '{' {
			if i >= len(data) || data[i] != '"' {
				return 0, malformed("expected a member name")
			}
			end, err := scanString(data, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return 0, malformed("expected ':'")
			}
			i = skipSpace(data, i+1)
		}
		_, next, err := scanValue(data, i, depth)
		if err != nil {
			return 0, err
		}
		i = skipSpace(data, next)
		if i >= len(data) {
			return 0, malformed("unexpected end")
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case closeCh:
			return i + 1, nil
		default:
			return 0, malformed("expected ',' or a closing bracket")
		}
	}
}

// str returns a string value's text, unescaped; the bool is false for other kinds.
func (v value) str() (string, bool) {
	if v.kind != kindString {
		return "", false
	}
	body := v.raw[1 : len(v.raw)-1]
	if !hasEscape(body) {
		return string(body), true
	}
	var s string
	if json.Unmarshal(v.raw, &s) != nil {
		return "", false
	}
	return s, true
}

// float returns a number value.
func (v value) float() (float64, error) {
	if f, ok := fastFloat(v.raw); ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(string(v.raw), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, &jsonError{"number out of range"}
	}
	return f, nil
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat reads the numbers positions and speeds are written as
// ("41.878100", "-87", "32.5") without strconv: with at most 15 digits the
// digits form an integer float64 holds exactly, and dividing it by an exact
// power of ten is one correctly rounded operation, so the result is the
// same as strconv.ParseFloat's (the classic fast path; FuzzDecode compares
// against encoding/json). Anything else (exponents, more digits) reports
// false and goes the slow way. Parsing floats was a fifth of decoding.
func fastFloat(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 || (dot && frac == 0) {
		return 0, false
	}
	f := float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// internCache remembers recently seen short strings (ids, lines, stops,
// statuses): a record's text that was seen before costs a hash and a
// compare instead of an allocation, and the state then holds one copy of a
// line or stop name for all its vehicles. It is a direct-mapped table of
// atomic pointers, so partition readers share it without a lock; two
// strings that hash alike just take turns in the slot.
var internCache [1 << 16]atomic.Pointer[string]

var internSeed = maphash.MakeSeed()

// internMax is the longest string interned; longer text is rarely repeated.
const internMax = 64

func intern(b []byte) string {
	if len(b) > internMax {
		return string(b)
	}
	slot := &internCache[maphash.Bytes(internSeed, b)&(uint64(len(internCache))-1)]
	if p := slot.Load(); p != nil && *p == string(b) {
		return *p
	}
	s := string(b)
	slot.Store(&s)
	return s
}

// text is str for the members that name things: interned when it can be.
func (v value) text() (string, bool) {
	if v.kind == kindString {
		if body := v.raw[1 : len(v.raw)-1]; !hasEscape(body) {
			return intern(body), true
		}
	}
	return v.str()
}
