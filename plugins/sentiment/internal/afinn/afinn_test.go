package afinn_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modelhost/modelhost/plugins/sentiment/internal/afinn"
	"github.com/modelhost/modelhost/plugins/sentiment/lexicon"
)

func afinn165(t *testing.T) *afinn.Lexicon {
	t.Helper()
	lex, err := afinn.ParseLexicon(lexicon.AFINN165)
	if err != nil {
		t.Fatalf("parse the embedded AFINN-165 lexicon: %v", err)
	}
	return lex
}

func TestEmbeddedLexicon(t *testing.T) {
	lex := afinn165(t)
	// The package's documentation says AFINN 165 contains 3382 entries.
	if got := lex.Len(); got != 3382 {
		t.Errorf("Len() = %d, want 3382", got)
	}
	for word, want := range map[string]int{
		// From the npm package's README.
		"xoxo":       3,
		"bankruptcy": -3,
		// Extremes, phrases, and the non-ASCII entry.
		"outstanding":   5,
		"bastard":       -5,
		"does not work": -3,
		"can't stand":   -3,
		"well-being":    2,
		"naïve":         -2,
		"kind of":       0,
	} {
		if got, ok := lex.Lookup(word); !ok || got != want {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", word, got, ok, want)
		}
	}
	if got, ok := lex.Lookup("blue"); ok {
		t.Errorf("Lookup(blue) = %d, true; want no entry", got)
	}
}

func TestParseLexicon(t *testing.T) {
	lex, err := afinn.ParseLexicon("# comment\n\ngood\t3\nnot good\t-2\nbad\t-3\n")
	if err != nil {
		t.Fatalf("ParseLexicon: %v", err)
	}
	if lex.Len() != 3 {
		t.Errorf("Len() = %d, want 3", lex.Len())
	}
	for _, bad := range []string{
		"",
		"# only a comment\n",
		"good 3\n",
		"good\tthree\n",
		"good\t6\n",
		"good\t-6\n",
		"Good\t3\n",
		"good\t3\ngood\t2\n",
		" good\t3\n",
	} {
		if _, err := afinn.ParseLexicon(bad); err == nil {
			t.Errorf("ParseLexicon(%q) succeeded, want an error", bad)
		}
	}
}

func TestLookupVariants(t *testing.T) {
	lex := afinn165(t)
	for _, tc := range []struct {
		word string
		want int
		ok   bool
	}{
		{"don't like", -2, true}, // lexicon has "dont like"
		{"hero's", 2, true},      // possessive of "hero"
		{"it's", 0, false},
		{"", 0, false},
	} {
		got, ok := lex.Lookup(tc.word)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q) = %d, %v; want %d, %v", tc.word, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAnalyze(t *testing.T) {
	lex := afinn165(t)
	on := afinn.Options{Negation: true}
	for _, tc := range []struct {
		name   string
		text   string
		opts   afinn.Options
		score  int
		tokens int
		label  afinn.Label
		hits   []afinn.Hit
	}{
		{
			name: "positive", text: "I love this, it is wonderful", opts: on,
			score: 7, tokens: 6, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "love", Score: 3}, {Word: "wonderful", Score: 4}},
		},
		{
			name: "negative", text: "This is terrible and I hate it", opts: on,
			score: -6, tokens: 7, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "terrible", Score: -3}, {Word: "hate", Score: -3}},
		},
		{
			name: "neutral", text: "The box is blue", opts: on,
			score: 0, tokens: 4, label: afinn.Neutral,
		},
		{
			name: "lexicon phrase with its own negation", text: "not good", opts: on,
			score: -2, tokens: 2, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "not good", Score: -2}},
		},
		{
			name: "negation flips the next rated word", text: "This is not great", opts: on,
			score: -3, tokens: 4, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "great", Score: -3, Negated: true}},
		},
		{
			name: "negation reaches over intervening words", text: "It was not very good at all", opts: on,
			score: -3, tokens: 7, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "good", Score: -3, Negated: true}},
		},
		{
			name: "negation window is three words", text: "I do not think that it is bad", opts: on,
			score: -3, tokens: 8, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "bad", Score: -3}},
		},
		{
			name: "negated negative", text: "not bad", opts: on,
			score: 3, tokens: 2, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "bad", Score: 3, Negated: true}},
		},
		{
			name: "negation off", text: "This is not great", opts: afinn.Options{},
			score: 3, tokens: 4, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "great", Score: 3}},
		},
		{
			name: "punctuation ends negation", text: "Not again, great.", opts: on,
			score: 3, tokens: 3, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "great", Score: 3}},
		},
		{
			name: "but ends negation", text: "never mind but great", opts: on,
			score: 3, tokens: 4, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "great", Score: 3}},
		},
		{
			name: "contraction isn't", text: "The service isn't good.", opts: on,
			score: -3, tokens: 4, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "good", Score: -3, Negated: true}},
		},
		{
			name: "contraction with typographic apostrophe", text: "It doesn’t work well and I don’t like it", opts: on,
			score: -2, tokens: 9, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "don't like", Score: -2}},
		},
		{
			name: "contraction without apostrophe", text: "i dont love it", opts: on,
			score: -3, tokens: 4, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "love", Score: -3, Negated: true}},
		},
		{
			name: "case and punctuation", text: "GREAT!!! Really... GOOD?!", opts: on,
			score: 6, tokens: 3, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "great", Score: 3}, {Word: "good", Score: 3}},
		},
		{
			name: "no is rated and negates", text: "No problems at all", opts: on,
			score: 1, tokens: 4, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "no", Score: -1}, {Word: "problems", Score: 2, Negated: true}},
		},
		{
			name: "phrase does not cross punctuation", text: "It does not, work", opts: on,
			score: 0, tokens: 4, label: afinn.Neutral,
		},
		{
			name: "three-word phrase", text: "The app does not work", opts: on,
			score: -3, tokens: 5, label: afinn.Negative,
			hits: []afinn.Hit{{Word: "does not work", Score: -3}},
		},
		{
			name: "known hyphenated word", text: "For your well-being", opts: on,
			score: 2, tokens: 3, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "well-being", Score: 2}},
		},
		{
			name: "unknown hyphenated word is scored by parts", text: "a love-hate relationship", opts: on,
			score: 0, tokens: 4, label: afinn.Neutral,
			hits: []afinn.Hit{{Word: "love", Score: 3}, {Word: "hate", Score: -3}},
		},
		{
			name: "phrase rated zero masks its words", text: "It is kind of slow", opts: on,
			score: 0, tokens: 5, label: afinn.Neutral,
		},
		{
			name: "numbers count as words", text: "I paid 4.50 for 1,000 smiles", opts: on,
			score: 2, tokens: 6, label: afinn.Positive,
			hits: []afinn.Hit{{Word: "smiles", Score: 2}},
		},
		{
			name: "no words", text: "!!! 🙂 ...", opts: on,
			score: 0, tokens: 0, label: afinn.Neutral,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lex.Analyze(tc.text, tc.opts)
			if got.Score != tc.score || got.Tokens != tc.tokens {
				t.Errorf("Analyze(%q) score, tokens = %d, %d; want %d, %d", tc.text, got.Score, got.Tokens, tc.score, tc.tokens)
			}
			if diff := cmp.Diff(tc.hits, got.Hits); diff != "" {
				t.Errorf("Analyze(%q) hits (-want +got):\n%s", tc.text, diff)
			}
			if l := afinn.Classify(got, 0.05); l != tc.label {
				t.Errorf("Classify(Analyze(%q)) = %s, want %s", tc.text, l, tc.label)
			}
		})
	}
}

func TestClassifyThreshold(t *testing.T) {
	r := afinn.Result{Score: 1, Tokens: 10} // comparative 0.1
	for _, tc := range []struct {
		r         afinn.Result
		threshold float64
		want      afinn.Label
	}{
		{r, 0, afinn.Positive},
		{r, 0.1, afinn.Positive},
		{r, 0.11, afinn.Neutral},
		{afinn.Result{Score: -1, Tokens: 10}, 0.1, afinn.Negative},
		{afinn.Result{Score: -1, Tokens: 10}, 0.2, afinn.Neutral},
		{afinn.Result{Score: 0, Tokens: 10}, 0, afinn.Neutral},
		{afinn.Result{}, 0, afinn.Neutral},
	} {
		if got := afinn.Classify(tc.r, tc.threshold); got != tc.want {
			t.Errorf("Classify(%+v, %v) = %s, want %s", tc.r, tc.threshold, got, tc.want)
		}
	}
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string // words separated by spaces, "|" before a word marks a clause break
	}{
		{"Hello, World!", "hello |world"},
		{"It isn't bad.", "it isn't bad"},
		{"It ISN’T bad", "it isn't bad"},
		{"'quoted' words", "quoted words"},
		{"well-being -- or not", "well-being |or not"},
		{"pre- and post-war", "pre |and post-war"},
		{"3.5 stars, 1,000 votes. Done", "3.5 stars |1,000 votes |done"},
		{"end.Start", "end |start"},
		{"Crème brûlée", "crème brûlée"},
		{"emoji 🙂 here", "emoji here"},
		{"  ", ""},
	} {
		var words []string
		for _, tok := range afinn.Tokenize(tc.text) {
			w := tok.Text
			if tok.Break {
				w = "|" + w
			}
			words = append(words, w)
		}
		if got := strings.Join(words, " "); got != tc.want {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestSplitSentences(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
		{"Really?! Yes... maybe.", []string{"Really?!", "Yes...", "maybe."}},
		{`He said "great." Then left.`, []string{`He said "great."`, "Then left."}},
		{"Version 2.5 is out. Dr. Smith, e.g. J. Doe, agrees.", []string{"Version 2.5 is out.", "Dr. Smith, e.g. J. Doe, agrees."}},
		{"First paragraph\n\nSecond paragraph", []string{"First paragraph", "Second paragraph"}},
		{"A line\nwrapped here.", []string{"A line\nwrapped here."}},
		{"Good. ... !!! Bad.", []string{"Good.", "Bad."}},
		{"", nil},
		{"   ", nil},
	} {
		if got := afinn.SplitSentences(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("SplitSentences(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// Scoring a text sentence by sentence and adding up the results gives the
// same result as scoring it whole.
func TestSentencesAddUp(t *testing.T) {
	lex := afinn165(t)
	opts := afinn.Options{Negation: true}
	for _, text := range []string{
		"The battery life is great, but the screen is not good. Support never answered! I'm not unhappy though.",
		"Not. Good. Not good. Isn't it? Bad, not bad.\n\nThe end",
	} {
		var sum afinn.Result
		for _, s := range afinn.SplitSentences(text) {
			sum = sum.Add(lex.Analyze(s, opts))
		}
		whole := lex.Analyze(text, opts)
		if diff := cmp.Diff(whole, sum); diff != "" {
			t.Errorf("%q: whole vs. sum of sentences (-whole +sum):\n%s", text, diff)
		}
	}
}

func TestIsNegator(t *testing.T) {
	for _, w := range []string{"not", "never", "no", "without", "isn't", "don't", "dont", "can't", "cannot", "ain't"} {
		if !afinn.IsNegator(w) {
			t.Errorf("IsNegator(%q) = false, want true", w)
		}
	}
	for _, w := range []string{"good", "note", "nothingness", "know", "n't"[1:]} {
		if afinn.IsNegator(w) {
			t.Errorf("IsNegator(%q) = true, want false", w)
		}
	}
}
