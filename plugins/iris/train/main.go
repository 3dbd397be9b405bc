// Command train trains the iris plugin's classifier and writes its
// parameters, which the plugin embeds.
//
// Run it from the repository root:
//
//	go run ./plugins/iris/train
//
// It reads plugins/iris/data/iris.csv, holds out every 5th flower of each
// species, trains a multinomial logistic regression on the rest, prints the
// accuracy on both parts and writes plugins/iris/irismodel/params.json,
// which the plugin embeds. Training is deterministic: the same data gives
// the same file, byte for byte.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/modelhost/modelhost/plugins/iris/internal/classifier"
)

func main() {
	dataPath := flag.String("data", "plugins/iris/data/iris.csv", "labelled iris `CSV` file to train on")
	outPath := flag.String("out", "plugins/iris/irismodel/params.json", "`file` to write the trained parameters to")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: go run ./plugins/iris/train [flags]\n\n"+
			"Trains the iris species classifier and writes its parameters as JSON.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*dataPath, *outPath); err != nil {
		fmt.Fprintf(os.Stderr, "train: %v\n", err)
		os.Exit(1)
	}
}

func run(dataPath, outPath string) error {
	data, err := os.ReadFile(dataPath)
	if err != nil {
		return err
	}
	cfg := classifier.DefaultConfig
	p, err := classifier.Fit(data, filepath.Base(dataPath), cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", dataPath, err)
	}
	out, err := p.Encode()
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, out, 0o644); err != nil {
		return err
	}
	m := p.Training
	fmt.Printf("trained on %s (sha256 %s)\n", dataPath, m.DataSHA256)
	fmt.Printf("%d iterations, learning rate %g, L2 %g\n", cfg.Iterations, cfg.LearningRate, cfg.L2)
	fmt.Printf("train accuracy:    %.3f (%d/%d)\n", float64(m.TrainCorrect)/float64(m.TrainRows), m.TrainCorrect, m.TrainRows)
	fmt.Printf("held-out accuracy: %.3f (%d/%d)\n", float64(m.TestCorrect)/float64(m.TestRows), m.TestCorrect, m.TestRows)
	fmt.Printf("wrote %s\n", outPath)
	return nil
}
