package main

import (
	"context"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/modelhost/modelhost/plugins/sentiment/internal/afinn"
	"github.com/modelhost/modelhost/plugins/sentiment/lexicon"
	"github.com/modelhost/modelhost/sdk"
)

// Limits of the input, stated in the input schema and enforced again by
// predict for callers that skip schema validation.
const (
	maxDocuments  = 100
	maxTextLength = 10000 // characters (Unicode code points), as JSON Schema counts them
	maxIDLength   = 200

	defaultThreshold = 0.05
	maxThreshold     = afinn.MaxScore // no comparative score is larger
)

// Granularity values.
const (
	granularityDocument = "document"
	granularitySentence = "sentence"
)

// Input is a batch of texts to score.
type Input struct {
	Documents   []Document `json:"documents" jsonschema:"minItems=1,maxItems=100" jsonschema_description:"The texts to score, 1 to 100 of them. Results come back in the same order."`
	Granularity string     `json:"granularity,omitempty" jsonschema:"enum=document,enum=sentence,default=document" jsonschema_description:"document (the default) scores each text as a whole; sentence also lists a score for each of its sentences."`
	Options     *Options   `json:"options,omitempty" jsonschema_description:"Optional settings of the scoring."`
}

// Document is one text to score.
type Document struct {
	ID   string `json:"id,omitempty" jsonschema:"maxLength=200,example=review-1" jsonschema_description:"Optional identifier, unique within the request, copied to the result."`
	Text string `json:"text" jsonschema:"minLength=1,maxLength=10000,example=I love this phone and the battery life is great." jsonschema_description:"English text of up to 10000 characters: a review, a comment, a message. It must contain at least one word."`
}

// Options tunes the scoring. Absent fields take their defaults.
type Options struct {
	Negation         *bool    `json:"negation,omitempty" jsonschema:"default=true" jsonschema_description:"Flip the score of rated words within three words after a negator such as not, never or isn't, so that 'not happy' counts as negative."`
	NeutralThreshold *float64 `json:"neutral_threshold,omitempty" jsonschema:"minimum=0,maximum=5,default=0.05,example=0.05" jsonschema_description:"A text is labelled positive when its comparative score is at least this, negative when it is at most minus this, and neutral in between."`
	Explain          bool     `json:"explain,omitempty" jsonschema:"default=false" jsonschema_description:"Also list the rated words and phrases that make up each score."`
}

// Output holds one result per input document.
type Output struct {
	Results []Result `json:"results" jsonschema_description:"One result per input document, in input order."`
}

// Result is the sentiment of one document.
type Result struct {
	ID          string     `json:"id,omitempty" jsonschema_description:"The document's id, if it had one."`
	Label       string     `json:"label" jsonschema:"enum=positive,enum=negative,enum=neutral" jsonschema_description:"Overall sentiment, from the comparative score and the neutral threshold."`
	Score       int        `json:"score" jsonschema_description:"Sum of the ratings (-5 to +5 each) of the rated words and phrases, after negation. Unbounded: longer texts reach larger magnitudes."`
	Comparative float64    `json:"comparative" jsonschema:"minimum=-5,maximum=5" jsonschema_description:"Score divided by the number of words, rounded to 4 decimal places: comparable between short and long texts."`
	Words       int        `json:"word_count" jsonschema:"minimum=1" jsonschema_description:"Number of words in the text, rated or not."`
	Sentences   []Sentence `json:"sentences,omitzero" jsonschema_description:"Per-sentence breakdown, when granularity is sentence."`
	Rated       []Word     `json:"words,omitzero" jsonschema_description:"The rated words and phrases in text order, when options.explain is true."`
}

// Sentence is the sentiment of one sentence of a document.
type Sentence struct {
	Text        string  `json:"text" jsonschema_description:"The sentence, trimmed of surrounding white space."`
	Label       string  `json:"label" jsonschema:"enum=positive,enum=negative,enum=neutral" jsonschema_description:"Sentiment of the sentence."`
	Score       int     `json:"score" jsonschema_description:"Sum of the ratings in the sentence."`
	Comparative float64 `json:"comparative" jsonschema:"minimum=-5,maximum=5" jsonschema_description:"Score divided by the sentence's number of words, rounded to 4 decimal places."`
	Words       int     `json:"word_count" jsonschema:"minimum=1" jsonschema_description:"Number of words in the sentence."`
	Rated       []Word  `json:"words,omitzero" jsonschema_description:"The sentence's rated words and phrases, when options.explain is true."`
}

// Word is one rated word or phrase and what it contributed.
type Word struct {
	Word    string `json:"word" jsonschema:"example=great" jsonschema_description:"The word or phrase, lower-cased, as it appears in the text."`
	Score   int    `json:"score" jsonschema:"minimum=-5,maximum=5" jsonschema_description:"What it added to the score: its AFINN-165 rating, sign flipped if negated."`
	Negated bool   `json:"negated,omitempty" jsonschema_description:"Present and true when a preceding negator flipped its rating."`
}

var info = sdk.Info{
	QualifiedName: "sentiment",
	DisplayName:   "Sentiment (AFINN-165)",
	Description: "Scores the sentiment of English text with the AFINN-165 lexicon of 3,382 words and phrases " +
		"rated from -5 (very negative) to +5 (very positive), handling negation such as \"not good\". " +
		"Labels each text positive, negative or neutral, optionally sentence by sentence and with the words behind the score.",
	Version: "1.0.0",
}

var examples = []Input{
	{Documents: []Document{{ID: "review-1", Text: "The battery life is great, but the screen is not good."}}},
	{
		Documents: []Document{
			{ID: "ticket-1041", Text: "I waited two weeks for a reply, which is frustrating. The agent was friendly and helpful, but the app still does not work!"},
			{ID: "ticket-1042", Text: "Thanks, the update fixed it. Everything works perfectly now."},
		},
		Granularity: granularitySentence,
		Options:     &Options{Negation: ptr(true), NeutralThreshold: ptr(0.1), Explain: true},
	},
	{Documents: []Document{{Text: "I can't say I'm disappointed: it isn't bad at all."}}, Options: &Options{Explain: true}},
}

func ptr[T any](v T) *T { return &v }

// newModel returns the sentiment model.
func newModel() *sdk.Model[Input, Output] {
	lex, err := afinn.ParseLexicon(lexicon.AFINN165)
	if err != nil {
		// The lexicon is embedded; the tests catch a broken one.
		panic(fmt.Sprintf("sentiment: %v", err))
	}
	m := &model{lex: lex}
	return sdk.NewModel(info, m.predict, sdk.WithExamples(examples...))
}

type model struct {
	lex *afinn.Lexicon
}

// settings are the options of one request, with defaults applied.
type settings struct {
	sentences bool
	negation  bool
	threshold float64
	explain   bool
}

func (m *model) predict(ctx context.Context, in Input) (Output, error) {
	set, errs := check(in)
	out := Output{Results: make([]Result, len(in.Documents))}
	for i, doc := range in.Documents {
		if err := ctx.Err(); err != nil {
			return Output{}, err
		}
		if n := utf8.RuneCountInString(doc.Text); n == 0 || n > maxTextLength || i >= maxDocuments {
			continue // reported by check
		}
		res, ok := m.score(doc, set)
		if !ok {
			errs = append(errs, sdk.FieldError{
				Pointer: fmt.Sprintf("/documents/%d/text", i),
				Detail:  "the text contains no words to score",
			})
			continue
		}
		out.Results[i] = res
	}
	if len(errs) > 0 {
		return Output{}, sdk.InvalidInput("the input cannot be scored", errs...)
	}
	sdk.Logger(ctx).Debug("scored documents", "documents", len(in.Documents), "granularity", in.Granularity)
	return out, nil
}

// check validates what the schema says about the input (for callers that do
// not validate against it) and what it cannot say (unique ids), and returns
// the settings of the request with their defaults applied.
func check(in Input) (settings, []sdk.FieldError) {
	var errs []sdk.FieldError
	add := func(pointer, format string, args ...any) {
		errs = append(errs, sdk.FieldError{Pointer: pointer, Detail: fmt.Sprintf(format, args...)})
	}
	switch n := len(in.Documents); {
	case n == 0:
		add("/documents", "at least one document is required")
	case n > maxDocuments:
		add("/documents", "%d documents, the limit is %d per request", n, maxDocuments)
	}
	seen := make(map[string]int, len(in.Documents))
	for i, doc := range in.Documents {
		if doc.ID != "" {
			if j, dup := seen[doc.ID]; dup {
				add(fmt.Sprintf("/documents/%d/id", i), "id %q is already used by /documents/%d", doc.ID, j)
			} else {
				seen[doc.ID] = i
			}
			if n := utf8.RuneCountInString(doc.ID); n > maxIDLength {
				add(fmt.Sprintf("/documents/%d/id", i), "id is %d characters long, the limit is %d", n, maxIDLength)
			}
		}
		switch n := utf8.RuneCountInString(doc.Text); {
		case n == 0:
			add(fmt.Sprintf("/documents/%d/text", i), "text is empty")
		case n > maxTextLength:
			add(fmt.Sprintf("/documents/%d/text", i), "text is %d characters long, the limit is %d", n, maxTextLength)
		}
	}
	set := settings{negation: true, threshold: defaultThreshold}
	switch in.Granularity {
	case "", granularityDocument:
	case granularitySentence:
		set.sentences = true
	default:
		add("/granularity", "%q is not one of %q, %q", in.Granularity, granularityDocument, granularitySentence)
	}
	if o := in.Options; o != nil {
		if o.Negation != nil {
			set.negation = *o.Negation
		}
		if t := o.NeutralThreshold; t != nil {
			if !(*t >= 0 && *t <= maxThreshold) {
				add("/options/neutral_threshold", "%v is outside 0..%d", *t, maxThreshold)
			}
			set.threshold = *t
		}
		set.explain = o.Explain
	}
	return set, errs
}

// score scores one document, sentence by sentence, and reports false if it
// has no words.
func (m *model) score(doc Document, set settings) (Result, bool) {
	opts := afinn.Options{Negation: set.negation}
	var (
		total     afinn.Result
		sentences []Sentence
	)
	for _, text := range afinn.SplitSentences(doc.Text) {
		r := m.lex.Analyze(text, opts)
		if r.Tokens == 0 {
			continue
		}
		total = total.Add(r)
		if set.sentences {
			sentences = append(sentences, Sentence{
				Text:        text,
				Label:       string(afinn.Classify(r, set.threshold)),
				Score:       r.Score,
				Comparative: round4(r.Comparative()),
				Words:       r.Tokens,
				Rated:       words(r, set.explain),
			})
		}
	}
	if total.Tokens == 0 {
		return Result{}, false
	}
	return Result{
		ID:          doc.ID,
		Label:       string(afinn.Classify(total, set.threshold)),
		Score:       total.Score,
		Comparative: round4(total.Comparative()),
		Words:       total.Tokens,
		Sentences:   sentences,
		Rated:       words(total, set.explain),
	}, true
}

// words lists the rated words of r if explain is set, as a non-nil slice so
// that an explained text without rated words shows "words": [].
func words(r afinn.Result, explain bool) []Word {
	if !explain {
		return nil
	}
	ws := make([]Word, len(r.Hits))
	for i, h := range r.Hits {
		ws[i] = Word{Word: h.Word, Score: h.Score, Negated: h.Negated}
	}
	return ws
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
