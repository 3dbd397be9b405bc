package afinn

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Token is one word of a text.
type Token struct {
	// Text is the word, lower-cased, with typographic apostrophes and
	// hyphens replaced by ASCII ones.
	Text string
	// Break reports whether punctuation that separates clauses (such as a
	// comma or a full stop) comes between this word and the one before it.
	Break bool
}

// Tokenize splits text into lower-case words. A word is a run of letters,
// digits and combining marks; an apostrophe or hyphen between two such
// characters stays inside the word ("isn't", "well-being"), as does a full
// stop or comma between two digits ("4.5", "1,000"). Every other character
// separates words, and the punctuation among them, .,;:!?()[]{}" and
// dashes, also marks a clause break. Emoji and other symbols are dropped.
func Tokenize(text string) []Token {
	var (
		toks     []Token
		word     strings.Builder
		brk      bool // a clause break since the previous word
		prev     rune // the previous rune, normalised
		pendJoin rune // a joiner seen after a word rune, kept if a word rune follows
	)
	flush := func() {
		if word.Len() > 0 {
			toks = append(toks, Token{Text: word.String(), Break: brk && len(toks) > 0})
			word.Reset()
			brk = false
		}
	}
	for _, r := range text {
		r = normalize(r)
		switch {
		case isWordRune(r):
			if pendJoin != 0 {
				if joins(pendJoin, prev, r) {
					word.WriteRune(pendJoin)
				} else {
					flush()
					brk = brk || isBreak(pendJoin)
				}
				pendJoin = 0
			}
			word.WriteRune(r)
		case pendJoin == 0 && word.Len() > 0 && isJoiner(r) && isWordRune(prev):
			pendJoin = r
			continue // keep prev: the joiner is judged by its neighbours
		default:
			flush()
			if pendJoin != 0 {
				brk = brk || isBreak(pendJoin)
				pendJoin = 0
			}
			brk = brk || isBreak(r)
		}
		prev = r
	}
	flush()
	return toks
}

// normalize lower-cases r and maps typographic apostrophes and hyphens to
// their ASCII forms.
func normalize(r rune) rune {
	switch r {
	case '\u2019', '\u2018', '\u02bc', '\u2032': // ’ ‘ ʼ ′
		return '\''
	case '\u2010', '\u2011': // non-breaking and typographic hyphen
		return '-'
	}
	return unicode.ToLower(r)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isJoiner(r rune) bool {
	return r == '\'' || r == '-' || r == '.' || r == ','
}

// joins reports whether joiner j, between word runes before and after,
// belongs inside the word.
func joins(j, before, after rune) bool {
	switch j {
	case '\'', '-':
		return true
	case '.', ',':
		return unicode.IsDigit(before) && unicode.IsDigit(after)
	}
	return false
}

func isBreak(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', '(', ')', '[', ']', '{', '}', '"',
		'\u201c', '\u201d', '\u2026', '\u2013', '\u2014', '-': // “ ” … – — and a hyphen between spaces
		return true
	}
	return false
}

// abbreviations end with a full stop that does not end a sentence.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true,
	"jr": true, "st": true, "vs": true, "e.g": true, "i.e": true, "cf": true,
	"approx": true, "fig": true,
}

// SplitSentences divides text into sentences, trimmed of surrounding white
// space; parts without any letter or digit are left out. A sentence ends
// after a run of full stops, question or exclamation marks or ellipses
// (with any closing quotes or brackets) that is followed by white space or
// the end of the text, except after a known abbreviation ("Dr.", "e.g.")
// or a single letter ("J. Smith"); a blank line also ends one.
func SplitSentences(text string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if strings.IndexFunc(s, isWordRune) >= 0 {
			out = append(out, s)
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n':
			j := i + size
			for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r') {
				j++
			}
			if j < len(text) && text[j] == '\n' {
				add(text[start:i])
				start = j + 1
				i = j + 1
				continue
			}
		case isTerminator(r):
			j, onlyStops := i, true
			for j < len(text) {
				r, size := utf8.DecodeRuneInString(text[j:])
				if !isTerminator(r) {
					break
				}
				onlyStops = onlyStops && r == '.'
				j += size
			}
			for j < len(text) {
				r, size := utf8.DecodeRuneInString(text[j:])
				if !isCloser(r) {
					break
				}
				j += size
			}
			atEnd := j == len(text)
			if !atEnd {
				r, _ := utf8.DecodeRuneInString(text[j:])
				atEnd = unicode.IsSpace(r)
			}
			if atEnd && !(onlyStops && j-i == 1 && abbreviationBefore(text[:i])) {
				add(text[start:j])
				start = j
			}
			i = j
			continue
		}
		i += size
	}
	add(text[start:])
	return out
}

func isTerminator(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '\u2026'
}

func isCloser(r rune) bool {
	switch r {
	case '"', '\'', ')', ']', '}', '\u201d', '\u2019':
		return true
	}
	return false
}

// abbreviationBefore reports whether text ends with an abbreviation or a
// single letter, so that a full stop after it does not end a sentence.
func abbreviationBefore(text string) bool {
	start := 0
	if i := strings.LastIndexFunc(text, func(r rune) bool { return !isWordRune(r) && r != '.' }); i >= 0 {
		_, size := utf8.DecodeRuneInString(text[i:])
		start = i + size
	}
	w := strings.ToLower(text[start:])
	if w == "" {
		return false
	}
	if abbreviations[w] {
		return true
	}
	r, size := utf8.DecodeRuneInString(w)
	return size == len(w) && unicode.IsLetter(r)
}
