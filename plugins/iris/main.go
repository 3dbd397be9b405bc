// Command iris is the bundled modelhost plugin "iris_model": it classifies an
// iris flower as setosa, versicolor or virginica from the length and width of
// its sepals and petals.
//
// The host starts it; run by hand it explains itself, and "iris --describe"
// prints its metadata and schemas. The model itself is package irismodel;
// its parameters are trained by ./train and embedded from
// irismodel/params.json.
package main

import (
	"github.com/modelhost/modelhost/plugins/iris/irismodel"
	"github.com/modelhost/modelhost/sdk/plugin"
)

func main() { plugin.Serve(irismodel.New()) }
