package nomenclature

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// identRe is a name in the nomenclature's shape: lower-case ASCII words
// joined by single underscores (NOM-T02, NOM-C01).
var identRe = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// lookalikes are the Cyrillic and Greek letters that are drawn like Latin
// ones; NFKD does not map them, and a name that hides one must not pass for
// ASCII in a suggestion.
var lookalikes = map[rune]string{
	'а': "a", 'в': "b", 'е': "e", 'ё': "e", 'к': "k", 'м': "m", 'н': "h", 'о': "o", 'р': "p",
	'с': "c", 'т': "t", 'у': "y", 'х': "x", 'і': "i", 'ї': "i", 'ј': "j", 'ѕ': "s", 'ԁ': "d",
	'ԛ': "q", 'ԝ': "w", 'ɡ': "g", 'ı': "i",
	'А': "A", 'В': "B", 'Е': "E", 'К': "K", 'М': "M", 'Н': "H", 'О': "O", 'Р': "P", 'С': "C",
	'Т': "T", 'У': "Y", 'Х': "X", 'І': "I", 'Ј': "J", 'Ѕ': "S",
	'α': "a", 'β': "b", 'ε': "e", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p", 'τ': "t",
	'υ': "u", 'χ': "x", 'ω': "w",
	'Α': "A", 'Β': "B", 'Ε': "E", 'Ζ': "Z", 'Η': "H", 'Ι': "I", 'Κ': "K", 'Μ': "M", 'Ν': "N",
	'Ο': "O", 'Ρ': "P", 'Τ': "T", 'Υ': "Y", 'Χ': "X",
	// Spanish: ñ is written "ni" (año → anio), the DAID's convention.
	'ñ': "ni", 'Ñ': "Ni",
	'ß': "ss", 'æ': "ae", 'Æ': "Ae", 'ø': "o", 'Ø': "O", 'đ': "d", 'Đ': "D", 'ł': "l", 'Ł': "L",
}

// Transliterate turns any text into a name of the nomenclature's shape:
// accents dropped (ñ → ni), look-alike letters mapped to Latin, camelCase
// split, lower case, and every run of other characters one underscore,
// without leading or trailing ones: "Tipo de Vialidad" → "tipo_de_vialidad",
// "cat_año" → "cat_anio", "fechaAlta" → "fecha_alta". The result may be
// empty or start with a digit; it is never longer than needed and applying
// Transliterate again changes nothing.
func Transliterate(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "_")
	}
	plain := s
	if !isASCII(s) {
		plain = foldToASCII(s)
	}
	var b strings.Builder
	rs := []rune(plain)
	pendingSep := false
	for i, r := range rs {
		isUpper := r >= 'A' && r <= 'Z'
		isLower := r >= 'a' && r <= 'z'
		isDigit := r >= '0' && r <= '9'
		if !isUpper && !isLower && !isDigit {
			pendingSep = true
			continue
		}
		// camelCase boundaries: fechaAlta, IDMunicipio.
		if isUpper && i > 0 {
			prev := rs[i-1]
			prevLowerOrDigit := (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9')
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := prev >= 'A' && prev <= 'Z'
			if prevLowerOrDigit || (prevUpper && nextLower) {
				pendingSep = true
			}
		}
		if pendingSep && b.Len() > 0 {
			b.WriteByte('_')
		}
		pendingSep = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldToASCII maps look-alikes and ñ, then drops accents; what is left
// outside ASCII becomes a separator in Transliterate.
func foldToASCII(s string) string {
	var mapped strings.Builder
	in := []rune(s)
	for i, r := range in {
		if r == 'Ñ' && ((i > 0 && unicode.IsUpper(in[i-1])) || (i+1 < len(in) && unicode.IsUpper(in[i+1]))) {
			mapped.WriteString("NI") // AÑO → ANIO, not A_ni_O
			continue
		}
		if rep, ok := lookalikes[r]; ok {
			mapped.WriteString(rep)
		} else {
			mapped.WriteRune(r)
		}
	}
	// NFKD splits accents from letters and folds compatibility forms
	// (fullwidth, ligatures, superscripts); the marks are then dropped.
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	plain, _, err := transform.String(t, mapped.String())
	if err != nil {
		return mapped.String()
	}
	return plain
}

// fitName shortens name to at most max bytes, cutting at a word boundary
// when one is close, and never leaving a trailing underscore.
func fitName(name string, max int) string {
	if len(name) <= max {
		return name
	}
	cut := name[:max]
	if i := strings.LastIndexByte(cut, '_'); i >= max/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, "_")
}

// isASCIIName reports the NOM-T04 problems: non-ASCII, white space, capitals.
func asciiProblems(name string) []string {
	var out []string
	var nonASCII, space, upper bool
	for _, r := range name {
		switch {
		case r > unicode.MaxASCII:
			nonASCII = true
		case unicode.IsSpace(r):
			space = true
		case r >= 'A' && r <= 'Z':
			upper = true
		}
	}
	if nonASCII {
		out = append(out, "tiene caracteres fuera de ASCII (acentos, ñ u otros)")
	}
	if space {
		out = append(out, "tiene espacios")
	}
	if upper {
		out = append(out, "tiene mayúsculas")
	}
	return out
}
