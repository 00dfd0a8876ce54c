// Command dockerlint checks a Dockerfile with BuildKit's own parser and
// linter (what docker build --check runs), without a Docker engine, and
// prints its stages as JSON for deploy's tests:
//
//	cd deploy/dockerlint && go run . ../Dockerfile
//
// Base images are not pulled: each resolves to an empty Debian-like image
// (PATH set). The exit status is 1 on a parse error or any lint warning.
// It is its own module so that BuildKit's dependencies stay out of vigil's.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"
)

// Stage is one build stage as the tests read it.
type Stage struct {
	Name string   `json:"name"`
	Base string   `json:"base"`
	Runs []string `json:"runs"` // RUN commands, shell form joined
	User string   `json:"user"`
	// Cmd and Entrypoint in exec form.
	Entrypoint []string `json:"entrypoint"`
	Cmd        []string `json:"cmd"`
	Copies     []string `json:"copies"` // COPY sources, with --from=<stage> as "<stage>:" prefix
	// Env holds the ENV keys and values; Healthcheck the HEALTHCHECK's
	// command (exec form, its first word CMD).
	Env         map[string]string `json:"env"`
	Healthcheck []string          `json:"healthcheck"`
}

// Report is the tool's output.
type Report struct {
	Stages   []Stage  `json:"stages"`
	Warnings []string `json:"warnings"`
}

type emptyImages struct{}

func (emptyImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromString(ref), []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}}`), nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerlint Dockerfile")
		os.Exit(2)
	}
	rep, err := lint(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerlint:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(rep) //nolint:errcheck
	if len(rep.Warnings) > 0 {
		os.Exit(1)
	}
}

func lint(path string) (*Report, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rep := &Report{Warnings: []string{}}
	sm := llb.NewSourceMap(nil, path, "Dockerfile", dt)
	sm.Definition = &llb.Definition{}
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		SourceMap:    sm,
		MetaResolver: emptyImages{},
	})
	if err != nil {
		return nil, err
	}
	if res.Error != nil {
		return nil, fmt.Errorf("%s", res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s:%d: %s: %s", path, line, w.RuleName, w.Detail))
	}

	ast, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		return nil, err
	}
	stages, _, err := instructions.Parse(ast.AST, linter.New(&linter.Config{}))
	if err != nil {
		return nil, err
	}
	for _, st := range stages {
		s := Stage{Name: st.Name, Base: st.BaseName, Runs: []string{}, Copies: []string{}, Env: map[string]string{}}
		for _, c := range st.Commands {
			switch c := c.(type) {
			case *instructions.RunCommand:
				s.Runs = append(s.Runs, strings.Join(c.CmdLine, " "))
			case *instructions.UserCommand:
				s.User = c.User
			case *instructions.EntrypointCommand:
				s.Entrypoint = c.CmdLine
			case *instructions.CmdCommand:
				s.Cmd = c.CmdLine
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					s.Env[kv.Key] = kv.Value
				}
			case *instructions.HealthCheckCommand:
				if c.Health != nil {
					s.Healthcheck = c.Health.Test
				}
			case *instructions.CopyCommand:
				for _, src := range c.SourcePaths {
					if c.From != "" {
						src = c.From + ":" + src
					}
					s.Copies = append(s.Copies, src)
				}
			}
		}
		rep.Stages = append(rep.Stages, s)
	}
	return rep, nil
}
