package validate

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// MaxImageBytes bounds the image a data:image URI may hold (64 KiB).
const MaxImageBytes = 64 << 10

// ImagePath reports whether a URL path names an image the hosted pages can
// show (.svg, .png, .jpg or .jpeg, any case).
func ImagePath(path string) bool {
	path = strings.ToLower(path)
	for _, ext := range []string{".svg", ".png", ".jpg", ".jpeg"} {
		if strings.HasSuffix(path, ext) {
			return true
		}
	}
	return false
}

// dataImages maps the accepted data URI prefixes to a check of the image.
var dataImages = map[string]func([]byte) bool{
	"data:image/png;base64,":     func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) },
	"data:image/jpeg;base64,":    func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) },
	"data:image/svg+xml;base64,": func(b []byte) bool { return bytes.Contains(bytes.ToLower(b), []byte("<svg")) },
}

// ImageProblem is what is wrong with a data:image URI (ImageOK when
// nothing is).
type ImageProblem int

// The problems of a data:image URI.
const (
	ImageOK ImageProblem = iota
	// ImageUnsupported: not data:image/(png|jpeg|svg+xml);base64.
	ImageUnsupported
	// ImageTooLarge: more than MaxImageBytes.
	ImageTooLarge
	// ImageBadEncoding: not valid base64, or empty.
	ImageBadEncoding
	// ImageWrongContent: not an image of the declared type.
	ImageWrongContent
)

// DataImageProblem classifies the data:image URI s (see DataImage).
func DataImageProblem(s string) ImageProblem {
	for prefix, isImage := range dataImages {
		payload, ok := strings.CutPrefix(s, prefix)
		if !ok {
			continue
		}
		if len(payload) > base64.StdEncoding.EncodedLen(MaxImageBytes) {
			return ImageTooLarge
		}
		img, err := base64.StdEncoding.Strict().DecodeString(payload)
		switch {
		case err != nil || len(img) == 0:
			return ImageBadEncoding
		case !isImage(img):
			return ImageWrongContent
		}
		return ImageOK
	}
	return ImageUnsupported
}

// DataImage checks a data:image/(png|jpeg|svg+xml);base64 URI: valid
// base64 of at most MaxImageBytes whose content is of the declared type. It
// returns the violation's message, or "" when s is fine.
func DataImage(s string) string {
	switch DataImageProblem(s) {
	case ImageTooLarge:
		return "must hold an image of at most 64 KiB"
	case ImageBadEncoding:
		for prefix := range dataImages {
			if strings.HasPrefix(s, prefix) {
				return "must hold the image in valid base64 after \"" + prefix + "\""
			}
		}
	case ImageWrongContent:
		return "does not hold an image of the type it declares"
	case ImageUnsupported:
		return "must be a data:image/png;base64, data:image/jpeg;base64, or data:image/svg+xml;base64, URI"
	}
	return ""
}
