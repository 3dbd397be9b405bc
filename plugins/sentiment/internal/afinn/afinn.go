// Package afinn scores English text for sentiment with a valence lexicon in
// the style of AFINN (Finn Årup Nielsen's word lists, in which each word or
// short phrase is rated from -5, very negative, to +5, very positive).
//
// The method is the one made popular by the npm package "sentiment", with
// the negation rule of VADER:
//
//   - [Tokenize] lower-cases the text and splits it into words, keeping
//     contractions ("isn't") and hyphenated words ("well-being") whole and
//     remembering where punctuation separated clauses.
//   - [Lexicon.Analyze] looks the words up, longest lexicon phrase first
//     ("does not work", "can't stand", then single words), and adds up their
//     ratings. A hyphenated word the lexicon does not know is scored as its
//     parts. A word the lexicon does not know scores 0 but still counts.
//   - With negation on, a negator ("not", "never", "no", any "n't"
//     contraction, ...) flips the sign of every rated word or phrase among
//     the next [NegationWindow] words of the same clause: "not good" and
//     "isn't very good" score -3 where "good" scores +3. Punctuation and
//     "but" end the window.
//   - The comparative score is the sum divided by the number of words, so
//     that long and short texts compare, and [Classify] turns it into a
//     [Label] with a neutral band around zero.
//
// [SplitSentences] divides a text into sentences for a sentence-by-sentence
// breakdown; scoring the sentences of a text one by one and adding them up
// gives the same result as scoring the text whole, since negation and
// phrases never cross a sentence boundary.
//
// All functions and methods are safe for concurrent use.
package afinn

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// NegationWindow is how many words after a negator it reaches.
const NegationWindow = 3

// MinScore and MaxScore bound the ratings in a lexicon.
const (
	MinScore = -5
	MaxScore = 5
)

// Lexicon maps lower-case words and phrases to their ratings. Build one with
// [ParseLexicon]; it is read-only afterwards.
type Lexicon struct {
	scores map[string]int
	// maxWords is the number of words in the longest phrase.
	maxWords int
}

// ParseLexicon reads a lexicon in tab-separated form: one "word<TAB>score"
// line per entry, where word is lower case and may contain spaces (a
// phrase), and score is an integer from MinScore to MaxScore. Empty lines and
// lines starting with "#" are ignored.
func ParseLexicon(data string) (*Lexicon, error) {
	l := &Lexicon{scores: make(map[string]int, 4096)}
	sc := bufio.NewScanner(strings.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, num, ok := strings.Cut(line, "\t")
		if !ok || word == "" || strings.TrimSpace(word) != word {
			return nil, fmt.Errorf("lexicon line %d: want word<TAB>score, got %q", n, line)
		}
		if word != strings.ToLower(word) {
			return nil, fmt.Errorf("lexicon line %d: %q is not lower case", n, word)
		}
		score, err := strconv.Atoi(num)
		if err != nil || score < MinScore || score > MaxScore {
			return nil, fmt.Errorf("lexicon line %d: score of %q is %q, want an integer from %d to %d", n, word, num, MinScore, MaxScore)
		}
		if _, dup := l.scores[word]; dup {
			return nil, fmt.Errorf("lexicon line %d: %q appears twice", n, word)
		}
		l.scores[word] = score
		l.maxWords = max(l.maxWords, strings.Count(word, " ")+1)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lexicon: %w", err)
	}
	if len(l.scores) == 0 {
		return nil, fmt.Errorf("lexicon is empty")
	}
	return l, nil
}

// Len returns the number of entries in l.
func (l *Lexicon) Len() int { return len(l.scores) }

// Lookup returns the rating of a lower-case word or phrase (words separated
// by single spaces). Besides exact entries it finds a contraction written
// without its apostrophe ("don't like" finds "dont like") and a possessive
// by its stem ("hero's" finds "hero").
func (l *Lexicon) Lookup(word string) (int, bool) {
	if s, ok := l.scores[word]; ok {
		return s, true
	}
	if !strings.Contains(word, "'") {
		return 0, false
	}
	if s, ok := l.scores[strings.ReplaceAll(word, "'", "")]; ok {
		return s, true
	}
	if stem, ok := strings.CutSuffix(word, "'s"); ok && !strings.Contains(stem, " ") {
		if s, ok := l.scores[stem]; ok {
			return s, true
		}
	}
	return 0, false
}

// Options tunes [Lexicon.Analyze].
type Options struct {
	// Negation enables the negation rule: a negator flips the sign of the
	// rated words that follow it within NegationWindow words of the same
	// clause. Lexicon phrases that contain their own negation, such as
	// "not good", keep their rating either way.
	Negation bool
}

// Hit is one rated word or phrase found in a text.
type Hit struct {
	// Word is the word or phrase as it appears in the text, lower-cased.
	Word string
	// Score is what it adds to the text's score: its rating, with the sign
	// flipped if it was negated.
	Score int
	// Negated reports whether a preceding negator flipped the rating.
	Negated bool
}

// Result is the sentiment of one text.
type Result struct {
	// Score is the sum of the scores of Hits.
	Score int
	// Tokens is the number of words in the text, rated or not.
	Tokens int
	// Hits lists the rated words and phrases in text order. Entries rated
	// 0 (such as "kind of") are matched but not listed.
	Hits []Hit
}

// Comparative returns the score per word, Score/Tokens, or 0 for a text
// without words.
func (r Result) Comparative() float64 {
	if r.Tokens == 0 {
		return 0
	}
	return float64(r.Score) / float64(r.Tokens)
}

// Add returns the result of the concatenation of two texts that were
// scored separately, such as two sentences.
func (r Result) Add(o Result) Result {
	hits := make([]Hit, 0, len(r.Hits)+len(o.Hits))
	hits = append(append(hits, r.Hits...), o.Hits...)
	return Result{Score: r.Score + o.Score, Tokens: r.Tokens + o.Tokens, Hits: hits}
}

// Analyze scores text. See the package documentation for the method.
func (l *Lexicon) Analyze(text string, opts Options) Result {
	toks := l.splitHyphenated(Tokenize(text))
	res := Result{Tokens: len(toks)}
	negatedBefore := 0 // tokens at indexes below this are negated
	for i := 0; i < len(toks); {
		if toks[i].Break {
			negatedBefore = 0
		}
		n, rating := l.match(toks, i)
		if n > 0 && rating != 0 {
			h := Hit{Word: joinTokens(toks[i : i+n]), Score: rating}
			if opts.Negation && i < negatedBefore {
				h.Score, h.Negated = -h.Score, true
			}
			res.Hits = append(res.Hits, h)
			res.Score += h.Score
		}
		if n <= 1 {
			// A single word may also steer negation; the words of a
			// matched phrase ("not good") never do.
			n = 1
			switch w := toks[i].Text; {
			case w == "but":
				negatedBefore = 0
			case opts.Negation && IsNegator(w):
				negatedBefore = i + 1 + NegationWindow
			}
		}
		i += n
	}
	return res
}

// match finds the longest lexicon entry that starts at toks[i] and does not
// cross a clause break, and returns its length in tokens (0 if none) and its
// rating.
func (l *Lexicon) match(toks []Token, i int) (int, int) {
	longest := min(l.maxWords, len(toks)-i)
	for n := longest; n >= 1; n-- {
		if n > 1 && crossesBreak(toks[i:i+n]) {
			continue
		}
		if s, ok := l.Lookup(joinTokens(toks[i : i+n])); ok {
			return n, s
		}
	}
	return 0, 0
}

// splitHyphenated replaces each hyphenated token that is not in the lexicon
// (as a word, or as the start of a phrase) by its parts, so that
// "high-quality" is scored like "high quality" while "well-being" keeps its
// own rating.
func (l *Lexicon) splitHyphenated(toks []Token) []Token {
	out := toks[:0:0]
	for i, t := range toks {
		if !strings.Contains(t.Text, "-") || l.startsEntry(toks, i) {
			out = append(out, t)
			continue
		}
		for j, part := range strings.Split(t.Text, "-") {
			out = append(out, Token{Text: part, Break: j == 0 && t.Break})
		}
	}
	return out
}

// startsEntry reports whether some lexicon entry starts at toks[i].
func (l *Lexicon) startsEntry(toks []Token, i int) bool {
	n, _ := l.match(toks, i)
	return n > 0
}

func crossesBreak(toks []Token) bool {
	for _, t := range toks[1:] {
		if t.Break {
			return true
		}
	}
	return false
}

func joinTokens(toks []Token) string {
	if len(toks) == 1 {
		return toks[0].Text
	}
	words := make([]string, len(toks))
	for i, t := range toks {
		words[i] = t.Text
	}
	return strings.Join(words, " ")
}

// negators are the words, besides contractions ending in "n't", that negate
// what follows them. Contractions are also listed without their apostrophe,
// as people often type them.
var negators = map[string]bool{
	"not": true, "no": true, "never": true, "none": true, "nobody": true,
	"nothing": true, "neither": true, "nor": true, "nowhere": true,
	"cannot": true, "without": true,
	"aint": true, "arent": true, "cant": true, "couldnt": true, "didnt": true,
	"doesnt": true, "dont": true, "hadnt": true, "hasnt": true, "havent": true,
	"isnt": true, "mightnt": true, "mustnt": true, "neednt": true, "shant": true,
	"shouldnt": true, "wasnt": true, "werent": true, "wont": true, "wouldnt": true,
}

// IsNegator reports whether the lower-case word negates the words after it:
// "not", "never", "no", "without", a contraction such as "isn't" or "don't"
// (with or without the apostrophe), and a few more.
func IsNegator(word string) bool {
	return negators[word] || strings.HasSuffix(word, "n't")
}

// Label is the overall sentiment of a text.
type Label string

// The labels, from [Classify].
const (
	Positive Label = "positive"
	Negative Label = "negative"
	Neutral  Label = "neutral"
)

// Classify labels a text by its comparative score: positive if it is at
// least threshold, negative if it is at most -threshold, and neutral in
// between. A text whose score is 0 is neutral whatever the threshold.
func Classify(r Result, threshold float64) Label {
	c := r.Comparative()
	switch {
	case r.Score > 0 && c >= threshold:
		return Positive
	case r.Score < 0 && c <= -threshold:
		return Negative
	default:
		return Neutral
	}
}
