# Helpers shared by every rule family. Not a rule: no METADATA.
package amisec.lib

import rego.v1

# violation shapes every finding the same way, so Python can join it to the element it names.
violation(collection, index, message, expected, actual) := {
	"collection": collection,
	"index": index,
	"message": message,
	"expected": expected,
	"actual": actual,
}
