package audit

import (
	"encoding/json"
	"testing"
)

// The events' details are written as encoding/json writes them, byte for byte.
func TestAppendDetailsAsEncodingJSON(t *testing.T) {
	for _, m := range []map[string]any{
		{},
		{"username": "user42", "admin": false, "auth": "local"},
		{"user_id": int64(7), "role": "learner", "source": "import:12", "propagated_to": []int64(nil)},
		{"user_id": int64(7), "propagated_to": []int64{}, "anchors": false, "n": 3, "neg": int64(-9)},
		{"propagated_to": []int64{4, 5, 6}, "x": nil, "ok": true},
		{"quote": `a"b\c`, "html": "<b>&</b>", "ctl": "a\nb\tc\x01", "uni": "Zoë 日本", "sep": "a\u2028b", "bad": "a\xffb"},
		{"é": 1, "a<b": "k", "Z": "upper", "_": ""},
	} {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendDetails(nil, m)
		if !ok || string(got) != string(want) {
			t.Errorf("%v: got %s (ok %v), want %s", m, got, ok, want)
		}
	}
	// Any other value: the caller falls back to encoding/json.
	for _, m := range []map[string]any{{"f": 1.5}, {"list": []string{"a"}}, {"m": map[string]any{}}, {"u": uint(1)}} {
		if _, ok := appendDetails(nil, m); ok {
			t.Errorf("%v: encoded without encoding/json", m)
		}
	}
}
