// Command sentiment is the modelhost plugin that serves the "sentiment"
// model: lexicon-based English sentiment analysis with the AFINN-165 word
// list. See README.md.
package main

import "github.com/modelhost/modelhost/sdk/plugin"

func main() {
	plugin.Serve(newModel())
}
