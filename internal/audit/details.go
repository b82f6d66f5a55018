package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendDetails appends m as encoding/json writes it (keys in order, the same escapes), for
// the values events carry (strings, booleans, integers, nil, lists of integers), without
// reflection: an import writes two events a person. ok is false for any other value; the
// caller then uses encoding/json.
func appendDetails(b []byte, m map[string]any) (_ []byte, ok bool) {
	var small [8]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		switch v := m[k].(type) {
		case nil:
			b = append(b, "null"...)
		case string:
			b = appendString(b, v)
		case bool:
			b = strconv.AppendBool(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case []int64:
			if v == nil {
				b = append(b, "null"...)
				continue
			}
			b = append(b, '[')
			for j, n := range v {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, n, 10)
			}
			b = append(b, ']')
		default:
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendString appends s quoted as encoding/json quotes it: plain ASCII directly, anything
// it would escape through encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // a string: it cannot fail
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
