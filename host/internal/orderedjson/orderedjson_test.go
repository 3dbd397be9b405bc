package orderedjson

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type pairs struct{ kv []string }

func (p *pairs) Set(k string, v any) { p.kv = append(p.kv, fmt.Sprintf("%s=%v", k, describe(v))) }

func describe(v any) string {
	switch t := v.(type) {
	case *pairs:
		return "{" + strings.Join(t.kv, ",") + "}"
	case []any:
		var s []string
		for _, e := range t {
			s = append(s, describe(e))
		}
		return "[" + strings.Join(s, ",") + "]"
	case json.Number:
		return "n:" + t.String()
	default:
		return fmt.Sprint(t)
	}
}

func TestDecodeKeepsOrderAndNumbers(t *testing.T) {
	v, err := Decode([]byte(`{"z": 1e400, "a": [0.05, {"y": true, "b": null}], "m": "s"}`), func() *pairs { return &pairs{} })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := describe(v), "{z=n:1e400,a=[n:0.05,{y=true,b=<nil>}],m=s}"; got != want {
		t.Errorf("Decode = %s, want %s", got, want)
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, in := range []string{``, `{"a": 1} {}`, `{"a": }`, `[1,]`, `]`} {
		if _, err := Decode([]byte(in), func() *pairs { return &pairs{} }); err == nil {
			t.Errorf("Decode(%q) accepted it", in)
		}
	}
}
