package migrations

// NewWithFS lets the external tests run a Migrator over their own files.
var NewWithFS = newMigrator
