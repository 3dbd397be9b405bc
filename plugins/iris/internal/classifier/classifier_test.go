package classifier

import (
	"bytes"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

const header = "sepal_length,sepal_width,petal_length,petal_width,species\n"

func loadIris(t *testing.T) []Sample {
	t.Helper()
	f, err := os.Open("../../data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	samples, err := LoadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

func TestLoadCSV(t *testing.T) {
	got, err := LoadCSV(strings.NewReader(header + "5.1,3.5,1.4,0.2,setosa\n6.7, 3.0 ,5.2,2.3,virginica\n"))
	if err != nil {
		t.Fatalf("LoadCSV: got error %v, want none", err)
	}
	want := []Sample{
		{Features: [NumFeatures]float64{5.1, 3.5, 1.4, 0.2}, Class: 0},
		{Features: [NumFeatures]float64{6.7, 3.0, 5.2, 2.3}, Class: 2},
	}
	if !slices.Equal(got, want) {
		t.Errorf("LoadCSV: got %+v, want %+v", got, want)
	}
}

func TestLoadCSVErrors(t *testing.T) {
	tests := []struct {
		name, csv, want string
	}{
		{"empty", "", "no header row"},
		{"header only", header, "no data rows"},
		{"wrong header", "a,b,c,d,e\n5.1,3.5,1.4,0.2,setosa\n", "CSV header"},
		{"short row", header + "5.1,3.5,1.4,setosa\n", "wrong number of fields"},
		{"not a number", header + "5.1,wide,1.4,0.2,setosa\n", `sepal_width is "wide"`},
		{"zero", header + "5.1,3.5,0,0.2,setosa\n", `petal_length is "0"`},
		{"negative", header + "5.1,3.5,1.4,-0.2,setosa\n", `petal_width is "-0.2"`},
		{"infinite", header + "Inf,3.5,1.4,0.2,setosa\n", `sepal_length is "Inf"`},
		{"unknown species", header + "5.1,3.5,1.4,0.2,rose\n", `species is "rose"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCSV(strings.NewReader(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadCSV(%q): got error %v, want one containing %q", tt.csv, err, tt.want)
			}
		})
	}
}

func TestIrisData(t *testing.T) {
	samples := loadIris(t)
	if got, want := len(samples), 150; got != want {
		t.Fatalf("rows: got %d, want %d", got, want)
	}
	perClass := make([]int, len(Classes))
	for _, s := range samples {
		perClass[s.Class]++
	}
	if want := []int{50, 50, 50}; !slices.Equal(perClass, want) {
		t.Errorf("rows per species: got %v, want %v", perClass, want)
	}
}

func TestSplit(t *testing.T) {
	// Two species interleaved: the 5th and 10th of each are held out,
	// wherever they sit in the whole list.
	var samples []Sample
	for i := range 24 {
		samples = append(samples, Sample{Features: [NumFeatures]float64{float64(i)}, Class: i % 2})
	}
	train, test := Split(samples)
	var got []float64
	for _, s := range test {
		got = append(got, s.Features[0])
	}
	// Class 0 is at 0,2,4,...: its 5th is 8 and 10th is 18; class 1's are 9 and 19.
	if want := []float64{8, 9, 18, 19}; !slices.Equal(got, want) {
		t.Errorf("held-out rows: got %v, want %v", got, want)
	}
	if got, want := len(train), 20; got != want {
		t.Errorf("training rows: got %d, want %d", got, want)
	}

	train, test = Split(loadIris(t))
	if got, want := len(train), 120; got != want {
		t.Errorf("iris training rows: got %d, want %d", got, want)
	}
	perClass := make([]int, len(Classes))
	for _, s := range test {
		perClass[s.Class]++
	}
	if want := []int{10, 10, 10}; !slices.Equal(perClass, want) {
		t.Errorf("iris held-out rows per species: got %v, want %v", perClass, want)
	}
}

func TestSoftmax(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		want   []float64
	}{
		{"equal", []float64{2, 2, 2, 2}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"log ratios", []float64{0, math.Log(3)}, []float64{0.25, 0.75}},
		{"huge scores do not overflow", []float64{1000, 1000 + math.Log(3)}, []float64{0.25, 0.75}},
		{"tiny scores do not underflow to NaN", []float64{-1000, -1000}, []float64{0.5, 0.5}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Softmax(tt.scores)
			if len(got) != len(tt.want) {
				t.Fatalf("Softmax(%v): got %v, want %v", tt.scores, got, tt.want)
			}
			for i := range got {
				if math.Abs(got[i]-tt.want[i]) > 1e-12 {
					t.Errorf("Softmax(%v): got %v, want %v", tt.scores, got, tt.want)
					break
				}
			}
		})
	}
}

// clusters returns three well-separated groups of flowers, one per class.
func clusters() []Sample {
	var s []Sample
	for k := range len(Classes) {
		for i := range 6 {
			d := 0.1 * float64(i%3)
			e := 0.1 * float64(i/3)
			base := 1 + 3*float64(k)
			s = append(s, Sample{Features: [NumFeatures]float64{base + d, base + e, base - d, base + d + e}, Class: k})
		}
	}
	return s
}

func TestTrainSeparates(t *testing.T) {
	samples := clusters()
	p, err := Train(samples, TrainConfig{Iterations: 200, LearningRate: 0.5, L2: 0.001})
	if err != nil {
		t.Fatalf("Train: got error %v, want none", err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("trained parameters: %v", err)
	}
	if got, want := p.Accuracy(samples), len(samples); got != want {
		t.Errorf("training accuracy: got %d correct, want %d", got, want)
	}
	for j := range NumFeatures {
		var sum float64
		for _, s := range samples {
			sum += p.Standardize(s.Features)[j]
		}
		if math.Abs(sum) > 1e-9 {
			t.Errorf("standardised feature %d: got mean %v, want 0", j, sum/float64(len(samples)))
		}
	}
	class, probs := p.Predict([NumFeatures]float64{7, 7, 7, 7})
	if class != 2 || probs[2] < 0.9 {
		t.Errorf("Predict(7,7,7,7): got class %d with probabilities %v, want class 2 with probability over 0.9", class, probs)
	}
}

func TestTrainDeterministic(t *testing.T) {
	data, err := os.ReadFile("../../data/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	cfg := TrainConfig{Iterations: 300, LearningRate: 0.5, L2: 0.001}
	var outputs [][]byte
	for range 2 {
		p, err := Fit(data, "iris.csv", cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, b)
	}
	if !bytes.Equal(outputs[0], outputs[1]) {
		t.Errorf("two training runs: got different parameters\n%s\nand\n%s\nwant identical", outputs[0], outputs[1])
	}
	p, err := ParseParams(outputs[0])
	if err != nil {
		t.Fatalf("ParseParams(Encode()): %v", err)
	}
	if got, want := p.Training.TrainRows+p.Training.TestRows, 150; got != want {
		t.Errorf("rows recorded: got %d, want %d", got, want)
	}
	if got, want := p.Training.Iterations, cfg.Iterations; got != want {
		t.Errorf("iterations recorded: got %d, want %d", got, want)
	}
}

func TestTrainErrors(t *testing.T) {
	constant := clusters()
	for i := range constant {
		constant[i].Features[1] = 3
	}
	good := TrainConfig{Iterations: 10, LearningRate: 0.1, L2: 0}
	tests := []struct {
		name    string
		samples []Sample
		cfg     TrainConfig
		want    string
	}{
		{"no samples", nil, good, "no samples"},
		{"no iterations", clusters(), TrainConfig{LearningRate: 0.1}, "invalid configuration"},
		{"zero learning rate", clusters(), TrainConfig{Iterations: 10}, "invalid configuration"},
		{"negative L2", clusters(), TrainConfig{Iterations: 10, LearningRate: 0.1, L2: -1}, "invalid configuration"},
		{"class out of range", []Sample{{Class: 3}}, good, "class 3 out of range"},
		{"constant feature", constant, good, "sepal_width does not vary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Train(tt.samples, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Train: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseParamsErrors(t *testing.T) {
	p, err := Train(clusters(), TrainConfig{Iterations: 10, LearningRate: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	good, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseParams(good); err != nil {
		t.Fatalf("ParseParams of trained parameters: got error %v, want none", err)
	}
	tests := []struct {
		name   string
		mutate func(*Params)
		want   string
	}{
		{"classes", func(p *Params) { p.Classes = []string{"a", "b", "c"} }, "classes are"},
		{"features", func(p *Params) { p.Features = p.Features[:3] }, "features are"},
		{"short mean", func(p *Params) { p.Mean = p.Mean[:3] }, "mean has 3 values, want 4"},
		{"zero std", func(p *Params) { p.Std[2] = 0 }, "std[2] is 0"},
		{"missing weights row", func(p *Params) { p.Weights = p.Weights[:2] }, "weights has 2 rows, want 3"},
		{"short weights row", func(p *Params) { p.Weights[1] = p.Weights[1][:1] }, "weights[1] has 1 values, want 4"},
		{"missing biases", func(p *Params) { p.Biases = nil }, "biases has 0 values, want 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseParams(good)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(q)
			b, err := q.Encode()
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseParams(b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseParams: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
	for _, doc := range []string{`{"classes":[],"extra":1}`, `not json`} {
		if _, err := ParseParams([]byte(doc)); err == nil {
			t.Errorf("ParseParams(%s): got no error, want one", doc)
		}
	}
}
