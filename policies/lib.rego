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

# any_of: whether the list `held` holds any of `classes`. It runs once per element of a
# collection, so it tests the classes one at a time in an `else` chain that stops at the first
# one held: the embedded engine pays for every binding of `some c in classes`, so callers put
# the likeliest class first. Three tests, then the rest of a longer list: every branch is paid
# for on each element that holds none of the classes, the common case.
any_of(held, classes) if {
	classes[0] in held
} else := true if {
	classes[1] in held
} else := true if {
	classes[2] in held
} else := true if {
	count(classes) > 3
	some c in array.slice(classes, 3, count(classes))
	c in held
}
