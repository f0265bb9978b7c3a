/* The input hand-over's walk in C: a Python document pushed onto a rego-cpp input, value by value.
 *
 * rego-cpp takes its input through a stack machine (regoInputString, regoInputObjectItem, ...), one
 * call per value. From Python each call costs about a microsecond of ctypes overhead, more than
 * rego-cpp's own work, and a 10k-element deployment makes a million of them. This module makes the
 * same calls, in the same order, from C. It does not link against rego-cpp: Python passes the
 * addresses of the functions regopy has already loaded (see regopy_input.py), so it always calls
 * the library regopy uses. Optional: without a C compiler amisec hands over from Python, the same
 * input more slowly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint32_t (*push_string)(void *, const char *);
typedef uint32_t (*push_int)(void *, int64_t);
typedef uint32_t (*push_float)(void *, double);
typedef uint32_t (*push_bool)(void *, bool);
typedef uint32_t (*push_plain)(void *);
typedef uint32_t (*push_sized)(void *, uint32_t);

typedef struct {
    void *input;
    push_string string;
    push_int integer;
    push_float floating;
    push_bool boolean;
    push_plain null;
    push_plain item;
    push_sized object;
    push_sized array;
    bool unsafe_seen;
} Api;

/* The C-level return codes are OR-ed, as the Python walker does, and checked once by the caller;
 * -1 means a Python exception is set. */
static int push(Api *api, PyObject *value, uint32_t *bad);

/* Whether a string holds a character rego-cpp would not escape in its output (see
 * regopy_strings.py): a control character, '"' or '\\', the characters JSON escapes. */
static bool unsafe(const char *utf8, Py_ssize_t size) {
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)utf8[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            return true;
        }
    }
    return false;
}

static int push_text(Api *api, PyObject *text, uint32_t *bad) {
    Py_ssize_t size;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &size); /* cached on the str: keys encode once */
    if (utf8 == NULL) {
        return -1;
    }
    if (!api->unsafe_seen && unsafe(utf8, size)) {
        api->unsafe_seen = true;
    }
    *bad |= api->string(api->input, utf8);
    return 0;
}

/* Whether a dict key is a str, as JSON needs (else a Python exception is set). */
static bool text_key(PyObject *key) {
    if (PyUnicode_CheckExact(key)) {
        return true;
    }
    PyErr_Format(PyExc_ValueError, "cannot hand a %s key to the engine", Py_TYPE(key)->tp_name);
    return false;
}

static int push_size(Api *api, push_sized fn, Py_ssize_t size, uint32_t *bad) {
    if (size > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "a collection too large for the engine");
        return -1;
    }
    *bad |= fn(api->input, (uint32_t)size);
    return 0;
}

static int push_dict(Api *api, PyObject *dict, uint32_t *bad) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!text_key(key) || push_text(api, key, bad) < 0 || push(api, value, bad) < 0) {
            return -1;
        }
        *bad |= api->item(api->input);
    }
    return push_size(api, api->object, PyDict_GET_SIZE(dict), bad);
}

static int push_sequence(Api *api, PyObject *seq, uint32_t *bad) {
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < size; i++) {
        if (push(api, items[i], bad) < 0) {
            return -1;
        }
    }
    return push_size(api, api->array, size, bad);
}

/* An int as the 64 bits the engine holds (else an exception is set). */
static int as_int64(PyObject *value, long long *number) {
    int overflow = 0;
    *number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "an integer too large for the engine (64 bits)");
        return -1;
    }
    return *number == -1 && PyErr_Occurred() ? -1 : 0;
}

static int push(Api *api, PyObject *value, uint32_t *bad) {
    PyTypeObject *type = Py_TYPE(value);
    if (type == &PyUnicode_Type) {
        return push_text(api, value, bad);
    }
    if (type == &PyDict_Type || type == &PyList_Type || type == &PyTuple_Type) {
        if (Py_EnterRecursiveCall(" while handing the input to the engine")) {
            return -1;
        }
        int done = type == &PyDict_Type ? push_dict(api, value, bad) : push_sequence(api, value, bad);
        Py_LeaveRecursiveCall();
        return done;
    }
    if (type == &PyBool_Type) {
        *bad |= api->boolean(api->input, value == Py_True);
        return 0;
    }
    if (type == &PyLong_Type) {
        long long number;
        if (as_int64(value, &number) < 0) {
            return -1;
        }
        *bad |= api->integer(api->input, (int64_t)number);
        return 0;
    }
    if (type == &PyFloat_Type) {
        *bad |= api->floating(api->input, PyFloat_AS_DOUBLE(value));
        return 0;
    }
    if (value == Py_None) {
        *bad |= api->null(api->input);
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "cannot hand a %s to the engine", type->tp_name);
    return -1;
}

/* The slimmed walk (see slim.Slimmer): a dict keeps only the keys the ranking (str -> int) holds,
 * in rank order, its values slimmed alike; a list whose first item is a dict has each item
 * slimmed; anything else is pushed as it is. The document itself is only read. */
typedef struct {
    long rank;
    PyObject *key;
    PyObject *value;
} Kept;

/* The fields of `dict` that `ranking` keeps (all, when it is NULL), in rank order, into `kept`
 * (room for every field); their count, or -1 with an exception set. */
static Py_ssize_t kept_fields(PyObject *dict, PyObject *ranking, Kept *kept) {
    PyObject *key, *value;
    Py_ssize_t pos = 0, count = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        long r = (long)count;
        if (ranking == NULL && !text_key(key)) {
            return -1;
        }
        if (ranking != NULL) { /* a key it holds is a str; any other is a field no policy names */
            PyObject *rank = PyDict_GetItemWithError(ranking, key);
            if (rank == NULL) {
                if (PyErr_Occurred()) {
                    return -1;
                }
                continue;
            }
            r = PyLong_AsLong(rank);
            if (r == -1 && PyErr_Occurred()) {
                return -1;
            }
        }
        Py_ssize_t at = count++;
        while (at > 0 && kept[at - 1].rank > r) {
            kept[at] = kept[at - 1];
            at--;
        }
        kept[at] = (Kept){r, key, value};
    }
    return count;
}

#define ON_STACK 64 /* an element has a few dozen fields at most */

/* The fields of `dict` that `ranking` keeps (`kept_fields`), in `on_stack` (ON_STACK long) when
 * they fit, else in memory the caller frees when it is not `on_stack`; their count in `count`.
 * NULL with an exception set. */
static Kept *kept_of(PyObject *dict, PyObject *ranking, Kept *on_stack, Py_ssize_t *count) {
    Py_ssize_t size = PyDict_GET_SIZE(dict);
    Kept *kept = size <= ON_STACK ? on_stack : PyMem_New(Kept, size);
    if (kept == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *count = kept_fields(dict, ranking, kept);
    if (*count < 0) {
        if (kept != on_stack) {
            PyMem_Free(kept);
        }
        return NULL;
    }
    return kept;
}

/* Whether a list is a collection of records, slimmed each (see push_slim). */
static bool records(PyObject *value) {
    return PyList_GET_SIZE(value) > 0 && PyDict_Check(PyList_GET_ITEM(value, 0));
}

static int push_slim(Api *api, PyObject *value, PyObject *ranking, uint32_t *bad);

static int push_slim_dict(Api *api, PyObject *dict, PyObject *ranking, uint32_t *bad) {
    Kept on_stack[ON_STACK];
    Py_ssize_t count;
    Kept *kept = kept_of(dict, ranking, on_stack, &count);
    if (kept == NULL) {
        return -1;
    }
    int done = 0;
    for (Py_ssize_t i = 0; done == 0 && i < count; i++) {
        if (push_text(api, kept[i].key, bad) < 0 || push_slim(api, kept[i].value, ranking, bad) < 0) {
            done = -1;
        } else {
            *bad |= api->item(api->input);
        }
    }
    if (kept != on_stack) {
        PyMem_Free(kept);
    }
    return done < 0 ? -1 : push_size(api, api->object, count, bad);
}

static int push_slim_list(Api *api, PyObject *list, PyObject *ranking, uint32_t *bad) {
    Py_ssize_t size = PyList_GET_SIZE(list);
    for (Py_ssize_t i = 0; i < size; i++) {
        if (push_slim(api, PyList_GET_ITEM(list, i), ranking, bad) < 0) {
            return -1;
        }
    }
    return push_size(api, api->array, size, bad);
}

static int push_slim(Api *api, PyObject *value, PyObject *ranking, uint32_t *bad) {
    PyTypeObject *type = Py_TYPE(value);
    bool dict = type == &PyDict_Type;
    if (!dict && !(type == &PyList_Type && records(value))) {
        return push(api, value, bad);
    }
    if (Py_EnterRecursiveCall(" while handing the input to the engine")) {
        return -1;
    }
    int done = dict ? push_slim_dict(api, value, ranking, bad) : push_slim_list(api, value, ranking, bad);
    Py_LeaveRecursiveCall();
    return done;
}

static bool read_api(PyObject *input, PyObject *functions, Api *api) {
    PyObject *number[9] = {input};
    if (!PyArg_ParseTuple(functions, "OOOOOOOO", &number[1], &number[2], &number[3], &number[4], &number[5],
                          &number[6], &number[7], &number[8])) {
        return false;
    }
    void *at[9];
    for (int i = 0; i < 9; i++) {
        at[i] = PyLong_AsVoidPtr(number[i]);
        if (at[i] == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "a null address for the input or a function");
            }
            return false;
        }
    }
    *api = (Api){
        at[0], (push_string)at[1], (push_int)at[2], (push_float)at[3], (push_bool)at[4],
        (push_plain)at[5], (push_plain)at[6], (push_sized)at[7], (push_sized)at[8], false,
    };
    return true;
}

/* The native build: rego-cpp's nodes made here, directly, as regopy_native describes, in the shapes
 * the input stack machine makes them (a scalar `Scalar << (JSONString|Int|Float|True|False|Null)`,
 * an object `Object << (ObjectItem << (Term << key) (Term << value))...`, an array's items as they
 * are), with two differences that leave every value the same and take a little over half the
 * memory and time:
 * - every node's text lies in one source shared by the whole input, where `Token ^ text` makes a
 *   source of its own per value (about 80 bytes each);
 * - equal scalars, keys among them, are one node wherever they occur: a key or a vocabulary word
 *   repeated on every element is built once, where each occurrence was four nodes of ~100 bytes.
 * A node shared by several parents is only read: the engine never writes to its input, and a
 * node's parent pointer (the last parent to take it) is not what a lookup in the input follows.
 * Two walks: the first gathers the distinct texts (and notices a string that needs protection),
 * the second builds. Addresses and layouts are those regopy_native verified for the release. */

enum { K_TERM, K_SCALAR, K_STRING, K_INT, K_FLOAT, K_TRUE, K_FALSE, K_NULL, K_ITEM, K_OBJECT, K_ARRAY, K_COUNT };
enum { T_STR, T_INT, T_FLOAT, T_COUNT };

typedef void (*create_fn)(void **slot, void *token);
typedef void (*create_at_fn)(void **slot, void *token, void *location);
typedef void (*push_back_fn)(void *node, void **children, size_t count);
typedef void (*release_fn)(void *object);
typedef void (*location_fn)(void *location, void *text);

typedef struct { void *source; size_t pos; size_t len; } Location;
/* std::string as libstdc++ lays it out; only read, by Location's constructor, which copies it */
typedef struct { const char *data; size_t size; union { char local[16]; size_t capacity; } u; } StdString;
typedef struct { void *scalar; void *term; } Shared;

typedef struct {
    create_fn create;
    create_at_fn create_at;
    push_back_fn push_back;
    release_fn release;
    release_fn release_source;
    location_fn location;
    void *tokens[K_COUNT]; /* each a Token: the address of its TokenDef */
    char *text;
    size_t size, capacity;
    PyObject *offsets[T_COUNT]; /* value -> its text's offset, by type */
    PyObject *index[T_COUNT];   /* value -> its position in `shared`, by type */
    bool unsafe_seen;
    Location at;
    Shared *shared;
    size_t count, room;
    Shared fixed[3]; /* true, false, null */
} Builder;

/* The texts of true, false and null, first in the shared text, at these offsets */
static const char *FIXED_TEXT[3] = {"true", "false", "null"};
static const size_t FIXED_AT[3] = {0, 5, 11};

static void *node_new(Builder *b, int kind) {
    void *slot = NULL;
    b->create(&slot, &b->tokens[kind]);
    return slot;
}

static void *node_with(Builder *b, int kind, void **children, size_t count) {
    void *node = node_new(b, kind);
    if (count) {
        b->push_back(node, children, count);
    }
    return node;
}

/* ---- the first walk: the distinct texts ---- */

static int add_text(Builder *b, const char *text, size_t size) {
    if (b->size + size + 1 > b->capacity) {
        size_t room = b->capacity ? b->capacity : 1 << 16;
        while (room < b->size + size + 1) {
            room *= 2;
        }
        char *grown = PyMem_Realloc(b->text, room);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->text = grown, b->capacity = room;
    }
    memcpy(b->text + b->size, text, size);
    b->size += size;
    b->text[b->size++] = '\n'; /* a line per value: an engine message quoting one shows only it */
    return 0;
}

static int number_text(PyObject *value, int type, char *out, size_t room, size_t *size) {
    int written;
    if (type == T_INT) {
        long long number;
        if (as_int64(value, &number) < 0) {
            return -1;
        }
        written = snprintf(out, room, "%lld", number);
    } else {
        written = snprintf(out, room, "%f", PyFloat_AS_DOUBLE(value)); /* as std::to_string */
    }
    *size = (size_t)written;
    return written < 0 || (size_t)written >= room ? -1 : 0;
}

/* Remember `value`'s text (a str, int or float) once. */
static int gather_scalar(Builder *b, PyObject *value, int type) {
    int known = PyDict_Contains(b->offsets[type], value);
    if (known != 0) {
        return known < 0 ? -1 : 0;
    }
    PyObject *offset = PyLong_FromSize_t(b->size);
    if (offset == NULL) {
        return -1;
    }
    int done;
    if (type == T_STR) {
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(value, &size);
        done = utf8 == NULL ? -1 : add_text(b, utf8, (size_t)size);
        if (done == 0 && !b->unsafe_seen && unsafe(utf8, size)) {
            b->unsafe_seen = true;
        }
    } else {
        char number[512];
        size_t size;
        done = number_text(value, type, number, sizeof number, &size);
        if (done < 0 && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "a number the engine cannot take");
        }
        done = done < 0 ? -1 : add_text(b, number, size);
    }
    if (done == 0) {
        done = PyDict_SetItem(b->offsets[type], value, offset);
    }
    Py_DECREF(offset);
    return done;
}

static int scalar_type(PyObject *value) {
    PyTypeObject *type = Py_TYPE(value);
    return type == &PyUnicode_Type ? T_STR : type == &PyLong_Type ? T_INT : type == &PyFloat_Type ? T_FLOAT : -1;
}

static int gather(Builder *b, PyObject *value, PyObject *ranking);

static int gather_dict(Builder *b, PyObject *dict, PyObject *ranking) {
    Kept on_stack[ON_STACK];
    Py_ssize_t count;
    Kept *kept = kept_of(dict, ranking, on_stack, &count);
    if (kept == NULL) {
        return -1;
    }
    int done = 0;
    for (Py_ssize_t i = 0; done == 0 && i < count; i++) {
        done = gather_scalar(b, kept[i].key, T_STR) < 0 || gather(b, kept[i].value, ranking) < 0 ? -1 : 0;
    }
    if (kept != on_stack) {
        PyMem_Free(kept);
    }
    return done;
}

static int gather(Builder *b, PyObject *value, PyObject *ranking) {
    int type = scalar_type(value);
    if (type >= 0) {
        return gather_scalar(b, value, type);
    }
    PyTypeObject *kind = Py_TYPE(value);
    if (kind == &PyBool_Type || value == Py_None) {
        return 0;
    }
    if (kind != &PyDict_Type && kind != &PyList_Type && kind != &PyTuple_Type) {
        PyErr_Format(PyExc_ValueError, "cannot hand a %s to the engine", kind->tp_name);
        return -1;
    }
    if (Py_EnterRecursiveCall(" while handing the input to the engine")) {
        return -1;
    }
    int done = 0;
    if (kind == &PyDict_Type) {
        done = gather_dict(b, value, ranking);
    } else {
        /* as push_slim: only a list of records is slimmed, anything else goes whole */
        PyObject *inner = kind == &PyList_Type && records(value) ? ranking : NULL;
        Py_ssize_t size = PySequence_Fast_GET_SIZE(value);
        PyObject **items = PySequence_Fast_ITEMS(value);
        for (Py_ssize_t i = 0; done == 0 && i < size; i++) {
            done = gather(b, items[i], inner);
        }
    }
    Py_LeaveRecursiveCall();
    return done;
}

/* ---- the second walk: the nodes ---- */

static Shared *shared_fixed(Builder *b, int which, int kind) {
    Shared *s = &b->fixed[which];
    if (s->scalar == NULL) {
        Location at = b->at;
        const char *text = FIXED_TEXT[which];
        at.pos = FIXED_AT[which], at.len = strlen(text);
        void *leaf = NULL;
        b->create_at(&leaf, &b->tokens[kind], &at);
        s->scalar = node_with(b, K_SCALAR, &leaf, 1);
        b->release(leaf);
        s->term = node_with(b, K_TERM, &s->scalar, 1);
    }
    return s;
}

static Shared *shared_scalar(Builder *b, PyObject *value, int type) {
    PyObject *found = PyDict_GetItemWithError(b->index[type], value);
    if (found != NULL) {
        return &b->shared[PyLong_AsSize_t(found)];
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *offset = PyDict_GetItemWithError(b->offsets[type], value);
    if (offset == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "a value changed while it was handed to the engine");
        }
        return NULL;
    }
    if (b->count == b->room) {
        size_t room = b->room ? b->room * 2 : 1024;
        Shared *grown = PyMem_Realloc(b->shared, room * sizeof(Shared));
        if (grown == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        b->shared = grown, b->room = room;
    }
    PyObject *position = PyLong_FromSize_t(b->count);
    if (position == NULL || PyDict_SetItem(b->index[type], value, position) < 0) {
        Py_XDECREF(position);
        return NULL;
    }
    Py_DECREF(position);
    Location at = b->at;
    at.pos = PyLong_AsSize_t(offset);
    if (type == T_STR) {
        Py_ssize_t size;
        PyUnicode_AsUTF8AndSize(value, &size); /* cached by the first walk */
        at.len = (size_t)size;
    } else {
        char number[512];
        number_text(value, type, number, sizeof number, &at.len); /* it succeeded in the first walk */
    }
    void *leaf = NULL;
    b->create_at(&leaf, &b->tokens[type == T_STR ? K_STRING : type == T_INT ? K_INT : K_FLOAT], &at);
    Shared *s = &b->shared[b->count++];
    s->scalar = node_with(b, K_SCALAR, &leaf, 1);
    b->release(leaf);
    s->term = node_with(b, K_TERM, &s->scalar, 1);
    return s;
}

/* The node of a value, a Term around it when `in_term`; `*owned` says whether the caller holds a
 * reference of its own (a container) or borrows a shared scalar's. NULL with an exception set. */
static void *build(Builder *b, PyObject *value, PyObject *ranking, bool in_term, bool *owned);

static void release_all(Builder *b, void **nodes, bool *owned, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) {
        if (owned[i]) {
            b->release(nodes[i]);
        }
    }
}

/* An Object of `value`'s kept fields or an Array of its items; each child is released once taken. */
static void *build_container(Builder *b, int kind, PyObject *value, PyObject *ranking, Py_ssize_t size) {
    Kept *kept = NULL;
    void **nodes = PyMem_New(void *, size ? size : 1);
    bool *owned = PyMem_New(bool, size ? size : 1);
    void *node = NULL;
    Py_ssize_t count = 0, made = 0;
    if (nodes == NULL || owned == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (kind == K_OBJECT) {
        kept = PyMem_New(Kept, size ? size : 1);
        count = kept == NULL ? (PyErr_NoMemory(), -1) : kept_fields(value, ranking, kept);
    } else {
        count = size;
    }
    for (; count >= 0 && made < count; made++) {
        if (kind == K_OBJECT) {
            Shared *key = shared_scalar(b, kept[made].key, T_STR);
            void *key_term = key == NULL ? NULL : key->term; /* `shared` may move as the value is built */
            bool value_owned;
            void *item_value = key == NULL ? NULL : build(b, kept[made].value, ranking, true, &value_owned);
            if (item_value == NULL) {
                break;
            }
            void *pair[2] = {key_term, item_value};
            nodes[made] = node_with(b, K_ITEM, pair, 2), owned[made] = true;
            if (value_owned) {
                b->release(item_value);
            }
        } else {
            PyObject *item = PySequence_Fast_ITEMS(value)[made];
            nodes[made] = build(b, item, ranking, false, &owned[made]);
            if (nodes[made] == NULL) {
                break;
            }
        }
    }
    if (count >= 0 && made == count) {
        node = node_with(b, kind, nodes, (size_t)count);
    }
    release_all(b, nodes, owned, made);
done:
    PyMem_Free(nodes);
    PyMem_Free(owned);
    PyMem_Free(kept);
    return node;
}

static void *build(Builder *b, PyObject *value, PyObject *ranking, bool in_term, bool *owned) {
    *owned = false;
    int type = scalar_type(value);
    if (type >= 0 || Py_TYPE(value) == &PyBool_Type || value == Py_None) {
        Shared *s = type >= 0 ? shared_scalar(b, value, type)
                  : value == Py_True ? shared_fixed(b, 0, K_TRUE)
                  : value == Py_False ? shared_fixed(b, 1, K_FALSE) : shared_fixed(b, 2, K_NULL);
        return s == NULL ? NULL : in_term ? s->term : s->scalar;
    }
    PyTypeObject *kind = Py_TYPE(value);
    if (Py_EnterRecursiveCall(" while handing the input to the engine")) {
        return NULL;
    }
    void *node;
    if (kind == &PyDict_Type) {
        node = build_container(b, K_OBJECT, value, ranking, PyDict_GET_SIZE(value));
    } else if (kind != &PyList_Type && kind != &PyTuple_Type) { /* the first walk stops at it first */
        PyErr_Format(PyExc_ValueError, "cannot hand a %s to the engine", kind->tp_name);
        node = NULL;
    } else {
        PyObject *inner = kind == &PyList_Type && records(value) ? ranking : NULL;
        node = build_container(b, K_ARRAY, value, inner, PySequence_Fast_GET_SIZE(value));
    }
    Py_LeaveRecursiveCall();
    if (node != NULL && in_term) {
        void *term = node_with(b, K_TERM, &node, 1);
        b->release(node);
        node = term;
    }
    *owned = node != NULL;
    return node;
}

static void builder_free(Builder *b) {
    for (size_t i = 0; i < b->count; i++) {
        b->release(b->shared[i].term);
        b->release(b->shared[i].scalar);
    }
    for (int i = 0; i < 3; i++) {
        if (b->fixed[i].scalar != NULL) {
            b->release(b->fixed[i].term);
            b->release(b->fixed[i].scalar);
        }
    }
    if (b->at.source != NULL) {
        b->release_source(b->at.source);
    }
    for (int t = 0; t < T_COUNT; t++) {
        Py_XDECREF(b->offsets[t]);
        Py_XDECREF(b->index[t]);
    }
    PyMem_Free(b->shared);
    PyMem_Free(b->text);
}

/* The document's top: `Term << Object << (ObjectItem << (Term << key) (Term << value))...`, each
 * value slimmed by its ranking (None: whole). */
static void *build_top(Builder *b, PyObject *items) {
    Py_ssize_t size = PyList_GET_SIZE(items);
    void **pairs = PyMem_New(void *, size ? size : 1);
    Py_ssize_t made = 0;
    void *top = NULL;
    if (pairs == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (; made < size; made++) {
        PyObject *key, *value, *ranking;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(items, made), "OOO", &key, &value, &ranking)) {
            break;
        }
        Shared *k = shared_scalar(b, key, T_STR);
        void *key_term = k == NULL ? NULL : k->term;
        bool owned;
        void *v = k == NULL ? NULL : build(b, value, ranking == Py_None ? NULL : ranking, true, &owned);
        if (v == NULL) {
            break;
        }
        void *pair[2] = {key_term, v};
        pairs[made] = node_with(b, K_ITEM, pair, 2);
        if (owned) {
            b->release(v);
        }
    }
    if (made == size) {
        void *object = node_with(b, K_OBJECT, pairs, (size_t)size);
        top = node_with(b, K_TERM, &object, 1);
        b->release(object);
    }
    for (Py_ssize_t i = 0; i < made; i++) {
        b->release(pairs[i]);
    }
    PyMem_Free(pairs);
    return top;
}

static bool read_builder(PyObject *functions, PyObject *tokens, Builder *b) {
    PyObject *f[6], *t[K_COUNT];
    if (!PyArg_ParseTuple(functions, "OOOOOO", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5])
        || !PyArg_ParseTuple(tokens, "OOOOOOOOOOO", &t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7], &t[8],
                             &t[9], &t[10])) {
        return false;
    }
    void *at[6];
    for (int i = 0; i < 6; i++) {
        if ((at[i] = PyLong_AsVoidPtr(f[i])) == NULL) {
            goto null;
        }
    }
    for (int i = 0; i < K_COUNT; i++) {
        if ((b->tokens[i] = PyLong_AsVoidPtr(t[i])) == NULL) {
            goto null;
        }
    }
    b->create = (create_fn)at[0], b->create_at = (create_at_fn)at[1], b->push_back = (push_back_fn)at[2];
    b->release = (release_fn)at[3], b->release_source = (release_fn)at[4], b->location = (location_fn)at[5];
    for (int i = 0; i < T_COUNT; i++) {
        if ((b->offsets[i] = PyDict_New()) == NULL || (b->index[i] = PyDict_New()) == NULL) {
            return false;
        }
    }
    return true;
null:
    if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "a null address for a function or token");
    }
    return false;
}

PyDoc_STRVAR(build_document_doc,
"build_document(functions, tokens, items, stop_if_unsafe) -> (int, bool)\n\n"
"Build the input `{key: value, ...}` of `items`, a list of (key, value, ranking or None) — each\n"
"value slimmed by its ranking as push_slim_value slims it — as rego-cpp nodes, made directly\n"
"with `functions` (the addresses of NodeDef::create(Token), NodeDef::create(Token, Location),\n"
"NodeDef::push_back(span), NodeDef's and SourceDef's intrusive_dec_ref, and Location's constructor\n"
"from a std::string) and `tokens` (the TokenDef addresses of Term, Scalar, JSONString, Int,\n"
"Float, True, False, Null, ObjectItem, Object, Array). Returns (the address of its top `Term`,\n"
"whose one reference the caller holds, or 0 when `stop_if_unsafe` and a string needs\n"
"protection; whether one does).");

static PyObject *build_document(PyObject *module, PyObject *args) {
    PyObject *functions, *tokens, *items;
    int stop_if_unsafe;
    Builder b = {0};
    if (!PyArg_ParseTuple(args, "O!O!O!p", &PyTuple_Type, &functions, &PyTuple_Type, &tokens, &PyList_Type, &items,
                          &stop_if_unsafe)) {
        return NULL;
    }
    PyObject *out = NULL;
    if (!read_builder(functions, tokens, &b)) {
        goto done;
    }
    for (int i = 0; i < 3; i++) {
        if (add_text(&b, FIXED_TEXT[i], strlen(FIXED_TEXT[i])) < 0) {
            goto done;
        }
    }
    Py_ssize_t size = PyList_GET_SIZE(items);
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *key, *value, *ranking;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(items, i), "OOO", &key, &value, &ranking) || !text_key(key)
            || gather_scalar(&b, key, T_STR) < 0 || gather(&b, value, ranking == Py_None ? NULL : ranking) < 0) {
            goto done;
        }
    }
    if (b.unsafe_seen && stop_if_unsafe) {
        out = Py_BuildValue("(kO)", 0UL, Py_True);
        goto done;
    }
    StdString text = {b.text, b.size, {{0}}};
    b.location(&b.at, &text);
    void *top = b.at.source == NULL ? NULL : build_top(&b, items);
    if (top != NULL) {
        out = Py_BuildValue("(KO)", (unsigned long long)(uintptr_t)top, b.unsafe_seen ? Py_True : Py_False);
        if (out == NULL) {
            b.release(top);
        }
    } else if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_RuntimeError, "the engine made no source for the input's text");
    }
done:
    builder_free(&b);
    return out;
}

PyDoc_STRVAR(push_value_doc,
"push_value(input, functions, value) -> int\n\n"
"Push `value` onto the rego-cpp input `input` (an address) with `functions`, the addresses of\n"
"regoInputString, regoInputInt, regoInputFloat, regoInputBoolean, regoInputNull,\n"
"regoInputObjectItem, regoInputObject and regoInputArray in that order. Returns (the OR of their\n"
"return codes, 0 when every push succeeded; whether a string holds a character rego-cpp would not\n"
"escape).");

static PyObject *push_value(PyObject *module, PyObject *args) {
    PyObject *input, *functions, *value;
    Api api;
    if (!PyArg_ParseTuple(args, "OO!O", &input, &PyTuple_Type, &functions, &value) || !read_api(input, functions, &api)) {
        return NULL;
    }
    uint32_t bad = 0;
    if (push(&api, value, &bad) < 0) {
        return NULL;
    }
    return Py_BuildValue("(kO)", (unsigned long)bad, api.unsafe_seen ? Py_True : Py_False);
}

PyDoc_STRVAR(push_slim_value_doc,
"push_slim_value(input, functions, value, ranking) -> (int, bool)\n\n"
"As push_value, for one top-level value slimmed as slim.Slimmer slims it, without a copy: every\n"
"dict in it keeps only the keys `ranking` (a dict of field name -> rank) holds, in rank order.");

static PyObject *push_slim_value(PyObject *module, PyObject *args) {
    PyObject *input, *functions, *value, *ranking;
    Api api;
    if (!PyArg_ParseTuple(args, "OO!OO!", &input, &PyTuple_Type, &functions, &value, &PyDict_Type, &ranking)
        || !read_api(input, functions, &api)) {
        return NULL;
    }
    uint32_t bad = 0;
    if (push_slim(&api, value, ranking, &bad) < 0) {
        return NULL;
    }
    return Py_BuildValue("(kO)", (unsigned long)bad, api.unsafe_seen ? Py_True : Py_False);
}

static PyMethodDef methods[] = {
    {"push_value", push_value, METH_VARARGS, push_value_doc},
    {"push_slim_value", push_slim_value, METH_VARARGS, push_slim_value_doc},
    {"build_document", build_document, METH_VARARGS, build_document_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_handover", "The input hand-over's walk in C (see regopy_input.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__handover(void) {
    return PyModule_Create(&module);
}
