// The YAML oracle for drydock's differential test: reads a JSON array of YAML streams on stdin
// and writes, for each, what go-yaml v3 (the YAML library of kubectl's and Compose's Go code)
// decodes from it: {"docs": [...]} or {"error": "..."}. Values are written with their types:
// null, booleans and strings as JSON, integers as {"i": "123"}, floats as {"f": 1.5} (or "nan",
// "inf", "-inf"), mappings as {"m": [[key, value], ...]} sorted by key text.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

func keyText(k interface{}) string {
	switch k := k.(type) {
	case nil:
		return ""
	case string:
		return k
	}
	return fmt.Sprint(k)
}

func typed(v interface{}) interface{} {
	switch v := v.(type) {
	case nil, bool, string:
		return v
	case int:
		return map[string]string{"i": fmt.Sprint(v)}
	case int64:
		return map[string]string{"i": fmt.Sprint(v)}
	case uint64:
		return map[string]interface{}{"f": float64(v)}
	case float64:
		switch {
		case math.IsNaN(v):
			return map[string]string{"f": "nan"}
		case math.IsInf(v, 1):
			return map[string]string{"f": "inf"}
		case math.IsInf(v, -1):
			return map[string]string{"f": "-inf"}
		}
		return map[string]float64{"f": v}
	case time.Time:
		return map[string]string{"t": v.String()}
	case []interface{}:
		out := make([]interface{}, len(v))
		for i, x := range v {
			out[i] = typed(x)
		}
		return out
	case map[string]interface{}:
		pairs := [][2]interface{}{}
		for k, x := range v {
			pairs = append(pairs, [2]interface{}{k, typed(x)})
		}
		return sorted(pairs)
	case map[interface{}]interface{}:
		pairs := [][2]interface{}{}
		for k, x := range v {
			pairs = append(pairs, [2]interface{}{keyText(k), typed(x)})
		}
		return sorted(pairs)
	}
	return map[string]string{"unknown": fmt.Sprintf("%T", v)}
}

func sorted(pairs [][2]interface{}) interface{} {
	sort.Slice(pairs, func(i, j int) bool { return pairs[i][0].(string) < pairs[j][0].(string) })
	return map[string]interface{}{"m": pairs}
}

func decode(text string) (out map[string]interface{}) {
	defer func() {
		if r := recover(); r != nil {
			out = map[string]interface{}{"error": fmt.Sprint("panic: ", r)}
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(text))
	docs := []interface{}{}
	for {
		var v interface{}
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return map[string]interface{}{"error": err.Error()}
		}
		docs = append(docs, typed(v))
	}
	return map[string]interface{}{"docs": docs}
}

func main() {
	var streams []string
	if err := json.NewDecoder(os.Stdin).Decode(&streams); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	results := make([]interface{}, len(streams))
	for i, s := range streams {
		results[i] = decode(s)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
