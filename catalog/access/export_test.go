package access

// ScramMatches exposes the verifier check to the tests.
var ScramMatches = scramMatches
