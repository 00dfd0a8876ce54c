package tfjs

import (
	"fmt"

	"github.com/vigil-video/vigil/internal/modeltool/onnx"
)

// ConvertBytes converts model.json given as bytes, its one weight shard
// (any path) given as shard.
func ConvertBytes(modelJSON, shard []byte) (*onnx.Model, error) {
	gm, weights, err := parse("model.json", modelJSON, func(p string) ([]byte, error) {
		if shard == nil {
			return nil, fmt.Errorf("no shard %q", p)
		}
		return shard, nil
	})
	if err != nil {
		return nil, err
	}
	return build("model.json", gm, weights, Options{})
}
