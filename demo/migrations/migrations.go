// Package migrations embeds DataStorage's schema as goose-style SQL files (`-- +goose Up` / `-- +goose Down`),
// applied in file-name order by `datastorage migrate`.
package migrations

import "embed"

// FS holds the *.sql files.
//
//go:embed *.sql
var FS embed.FS
