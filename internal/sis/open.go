package sis

import (
	"fmt"
	"strings"
)

// Open reads the source named by spec: "csv:PATH" (a CSV export) or "oneroster:PATH" (a
// OneRoster CSV bundle, a folder or a zip). A configured source (a bare NAME) is run by
// Service.RunConfigured, not opened here. The source is named "csv" or "oneroster"
// unless name is given, so that the nightly file may change path without becoming a new
// source. A source that cannot be read is an error and nothing is applied.
func Open(spec, name string) (*Source, error) {
	kind, path, ok := strings.Cut(spec, ":")
	var (
		src *Source
		err error
	)
	switch {
	case ok && kind == "csv":
		src, err = ReadCSVFile(path)
	case ok && kind == "oneroster":
		src, err = ReadOneRoster(path)
	default:
		return nil, fmt.Errorf("sis: source %q: use csv:PATH, oneroster:PATH, or a configured source's name (Service.RunConfigured)", spec)
	}
	if err != nil {
		return nil, err
	}
	src.Name = kind
	if name != "" {
		src.Name = name
	}
	return src, nil
}
