// Command greeter is a test plugin served at two versions side by side by
// the browser tests. Its version is set at build time, as
//
//	go build -ldflags "-X main.version=2.0.0"
//
// and its input schema depends on it: version 1.x takes a name, later
// versions a name and a language. Its answer names the version that
// computed it.
package main

import (
	"context"
	"strings"

	"github.com/modelhost/modelhost/sdk"
	"github.com/modelhost/modelhost/sdk/plugin"
)

// version is the model's version.
var version = "1.0.0"

type inputV1 struct {
	Name string `json:"name" jsonschema:"title=Name,description=Who to greet.,minLength=1,maxLength=100"`
}

type inputV2 struct {
	Name     string `json:"name" jsonschema:"title=Name,description=Who to greet.,minLength=1,maxLength=100"`
	Language string `json:"language" jsonschema:"title=Language,description=The language of the greeting.,enum=en,enum=fr"`
}

type output struct {
	Greeting string `json:"greeting" jsonschema:"title=Greeting"`
	Version  string `json:"version" jsonschema:"title=Version,description=The version of the model that answered."`
}

func main() {
	info := sdk.Info{
		QualifiedName: "greeter",
		DisplayName:   "Greeter",
		Description:   "Greets someone by name.",
		Version:       version,
	}
	if strings.HasPrefix(version, "1.") {
		plugin.Serve(sdk.NewModel(info, func(_ context.Context, in inputV1) (output, error) {
			return output{Greeting: "Hello, " + in.Name + "!", Version: version}, nil
		}, sdk.WithExamples(inputV1{Name: "Ada"})))
		return
	}
	info.Description = "Greets someone by name, in English or French."
	plugin.Serve(sdk.NewModel(info, func(_ context.Context, in inputV2) (output, error) {
		greeting := "Hello, " + in.Name + "!"
		if in.Language == "fr" {
			greeting = "Bonjour, " + in.Name + " !"
		}
		return output{Greeting: greeting, Version: version}, nil
	}, sdk.WithExamples(inputV2{Name: "Ada", Language: "fr"})))
}
