package classifier

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// NumFeatures is the number of measurements per flower.
const NumFeatures = 4

// Features names the measurements, in the order of a Sample's Features and
// of the CSV columns. All are in centimetres.
var Features = [NumFeatures]string{"sepal_length", "sepal_width", "petal_length", "petal_width"}

// Classes names the species, in the order of class indices.
var Classes = []string{"setosa", "versicolor", "virginica"}

// HoldOutEvery is the split rule's period: within each species, in file
// order, every HoldOutEvery-th row is held out for testing.
const HoldOutEvery = 5

// SplitRule describes Split in words; it is recorded in the parameters.
var SplitRule = fmt.Sprintf("within each species, in file order, every %dth row "+
	"(the %dth, %dth, ...) is held out for testing; all other rows are used for training",
	HoldOutEvery, HoldOutEvery, 2*HoldOutEvery)

// Sample is one labelled flower.
type Sample struct {
	// Features holds the measurements in the order of Features.
	Features [NumFeatures]float64
	// Class is an index into Classes.
	Class int
}

// LoadCSV reads labelled flowers from CSV with the header
// sepal_length,sepal_width,petal_length,petal_width,species. Measurements
// must be finite and positive; species must be one of Classes.
func LoadCSV(r io.Reader) ([]Sample, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = NumFeatures + 1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("read CSV: no header row")
	}
	if err != nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	want := append(Features[:], "species")
	for i := range header {
		if strings.TrimSpace(header[i]) != want[i] {
			return nil, fmt.Errorf("CSV header is %q, want %q", strings.Join(header, ","), strings.Join(want, ","))
		}
	}
	var samples []Sample
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		var s Sample
		for i := range NumFeatures {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || v <= 0 {
				return nil, fmt.Errorf("CSV line %d: %s is %q, want a positive number", line, Features[i], rec[i])
			}
			s.Features[i] = v
		}
		s.Class = slices.Index(Classes, strings.TrimSpace(rec[NumFeatures]))
		if s.Class < 0 {
			return nil, fmt.Errorf("CSV line %d: species is %q, want one of %s", line, rec[NumFeatures], strings.Join(Classes, ", "))
		}
		samples = append(samples, s)
	}
	if len(samples) == 0 {
		return nil, errors.New("CSV has no data rows")
	}
	return samples, nil
}

// Split divides samples deterministically by SplitRule: counting the rows
// of each species separately, in their order in samples, every
// HoldOutEvery-th one goes to test and the rest to train. Both keep the
// order of samples.
func Split(samples []Sample) (train, test []Sample) {
	seen := make(map[int]int)
	for _, s := range samples {
		seen[s.Class]++
		if seen[s.Class]%HoldOutEvery == 0 {
			test = append(test, s)
		} else {
			train = append(train, s)
		}
	}
	return train, test
}
