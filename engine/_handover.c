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
    int depth; /* of the container being pushed */
} Api;

/* Every walk recurses as deep as the document, with up to some 1.5 kB of C stack a level (a
 * dict's fields in rank order): a deeper document is refused, whatever Python's own recursion
 * limit (an engine input is a few levels deep). */
#define MAX_DEPTH 1000

/* Into a container at `*depth`: -1 with RecursionError set when the document is too deep. */
static int enter(int *depth) {
    if (*depth >= MAX_DEPTH) {
        PyErr_SetString(PyExc_RecursionError, "a document nested too deep to hand to the engine");
        return -1;
    }
    if (Py_EnterRecursiveCall(" while handing the input to the engine")) {
        return -1;
    }
    ++*depth;
    return 0;
}

static void leave(int *depth) {
    --*depth;
    Py_LeaveRecursiveCall();
}

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
        if (enter(&api->depth) < 0) {
            return -1;
        }
        int done = type == &PyDict_Type ? push_dict(api, value, bad) : push_sequence(api, value, bad);
        leave(&api->depth);
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
    if (enter(&api->depth) < 0) {
        return -1;
    }
    int done = dict ? push_slim_dict(api, value, ranking, bad) : push_slim_list(api, value, ranking, bad);
    leave(&api->depth);
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
        (push_plain)at[5], (push_plain)at[6], (push_sized)at[7], (push_sized)at[8], false, 0,
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
 *
 * A `Tape` walks the Python document once and records it as a flat array of words: each scalar as
 * its position among the distinct scalars, each container as a header (its size, the words it
 * spans, for a dict the context that chooses its fields) followed by its contents. Every input
 * built from it (`Tape.build`) reads only that array: a process that hands over one rule package
 * after another, each with the fields it names, walks the document, looks its values up and scans
 * every element's keys once instead of once per package. Dicts under a context keep the fields it
 * holds (their union over the packages the tape is for); `build` chooses each package's among
 * them, in its rank order. Addresses and layouts are those regopy_native verified for the release. */

enum { K_TERM, K_SCALAR, K_STRING, K_INT, K_FLOAT, K_TRUE, K_FALSE, K_NULL, K_ITEM, K_OBJECT, K_ARRAY, K_COUNT };
enum { T_STR, T_INT, T_FLOAT, T_COUNT };
/* A tape word: its kind in the low TAG_BITS, a number above them (a scalar's position among the
 * distinct ones; a container's size). An array's header is two words (size, words after the
 * header), a dict's three (size, context + 1 or 0 for all fields, words after the header); a dict
 * item is its key (its position among the distinct scalars, or under a context its field number)
 * and then its value. */
enum { W_SCALAR, W_TRUE, W_FALSE, W_NULL, W_ARRAY, W_OBJECT };
#define TAG_BITS 3
#define WORD_MAX (UINT32_MAX >> TAG_BITS)
#define UNSEEN UINT32_MAX
#define NUMBER_ROOM 512

typedef void (*create_fn)(void **slot, void *token);
typedef void (*create_at_fn)(void **slot, void *token, void *location);
typedef void (*push_back_fn)(void *node, void **children, size_t count);
typedef void (*release_fn)(void *object);
typedef void (*location_fn)(void *location, void *text);

typedef struct { void *source; size_t pos; size_t len; } Location;
/* std::string as libstdc++ lays it out; only read, by Location's constructor, which copies it */
typedef struct { const char *data; size_t size; union { char local[16]; size_t capacity; } u; } StdString;
/* A distinct scalar: its text in the source, its token, and its nodes while a build makes them. */
typedef struct { void *scalar; void *term; size_t pos; size_t len; int kind; } Shared;

typedef struct {
    PyObject_HEAD
    create_fn create;
    create_at_fn create_at;
    push_back_fn push_back;
    release_fn release;
    release_fn release_source;
    location_fn location;
    void *tokens[K_COUNT]; /* each a Token: the address of its TokenDef */
    /* while walking: the distinct scalars' texts, a line each (freed once the source holds them),
     * each distinct value's position in `shared` by type, each context's field -> field number */
    char *text;
    size_t size, capacity;
    PyObject *index[T_COUNT];
    PyObject *unions;
    bool *deep; /* per context: whether the dicts inside a chosen field's value are chosen from too */
    Py_ssize_t contexts, fields;
    uint32_t *field_at; /* field number -> the key's position in `shared` (UNSEEN before it is met) */
    uint32_t *words;
    size_t used, room;
    int depth; /* of the container being walked (the build goes no deeper) */
    Shared *shared;
    size_t count, shared_room;
    Shared fixed[3]; /* true, false, null */
    Location at;     /* the shared source, made by the first build */
    bool unsafe_seen;
} Tape;

/* The texts of true, false and null, first in the shared text, at these offsets */
static const char *FIXED_TEXT[3] = {"true", "false", "null"};
static const size_t FIXED_AT[3] = {0, 5, 11};

static void *node_new(Tape *t, int kind) {
    void *slot = NULL;
    t->create(&slot, &t->tokens[kind]);
    return slot;
}

static void *node_with(Tape *t, int kind, void **children, size_t count) {
    void *node = node_new(t, kind);
    if (count) {
        t->push_back(node, children, count);
    }
    return node;
}

/* ---- the walk: the document into words ---- */

static int add_text(Tape *t, const char *text, size_t size) {
    if (t->size + size + 1 > t->capacity) {
        size_t room = t->capacity ? t->capacity : 1 << 16;
        while (room < t->size + size + 1) {
            room *= 2;
        }
        char *grown = PyMem_Realloc(t->text, room);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->text = grown, t->capacity = room;
    }
    memcpy(t->text + t->size, text, size);
    t->size += size;
    t->text[t->size++] = '\n'; /* a line per value: an engine message quoting one shows only it */
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

static int emit(Tape *t, uint32_t word) {
    if (t->used == t->room) {
        size_t room = t->room ? t->room * 2 : 1 << 14;
        uint32_t *grown = PyMem_Realloc(t->words, room * sizeof(uint32_t));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->words = grown, t->room = room;
    }
    t->words[t->used++] = word;
    return 0;
}

static int too_large(void) {
    PyErr_SetString(PyExc_ValueError, "a document too large for the engine");
    return -1;
}

/* A scalar not seen before, known in `t->index[type]` by `key`: its text (for a float, `number`)
 * added to the shared text; its position, or -1 with an exception set. */
static Py_ssize_t new_scalar(Tape *t, PyObject *key, PyObject *value, int type, char number[NUMBER_ROOM], size_t len) {
    size_t pos = t->size;
    if (type == T_STR) {
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(value, &size);
        if (utf8 == NULL || add_text(t, utf8, (size_t)size) < 0) {
            return -1;
        }
        if (!t->unsafe_seen && unsafe(utf8, size)) {
            t->unsafe_seen = true;
        }
        len = (size_t)size;
    } else {
        if (type == T_INT && number_text(value, type, number, NUMBER_ROOM, &len) < 0) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "a number the engine cannot take");
            }
            return -1;
        }
        if (add_text(t, number, len) < 0) {
            return -1;
        }
    }
    if (t->count >= WORD_MAX) {
        return too_large();
    }
    if (t->count == t->shared_room) {
        size_t room = t->shared_room ? t->shared_room * 2 : 1024;
        Shared *grown = PyMem_Realloc(t->shared, room * sizeof(Shared));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->shared = grown, t->shared_room = room;
    }
    PyObject *position = PyLong_FromSize_t(t->count);
    if (position == NULL || PyDict_SetItem(t->index[type], key, position) < 0) {
        Py_XDECREF(position);
        return -1;
    }
    Py_DECREF(position);
    int kind = type == T_STR ? K_STRING : type == T_INT ? K_INT : K_FLOAT;
    t->shared[t->count] = (Shared){NULL, NULL, pos, len, kind};
    return (Py_ssize_t)t->count++;
}

/* `value`'s position among the distinct scalars (a str, int or float), its text remembered the
 * first time; -1 with an exception set. A float is known by its text, the value the engine reads:
 * 0.0 and -0.0 are equal in Python but not to the engine. */
static Py_ssize_t scalar_at(Tape *t, PyObject *value, int type) {
    char number[NUMBER_ROOM];
    size_t len = 0;
    PyObject *key = value, *text_key = NULL;
    if (type == T_FLOAT) {
        if (number_text(value, type, number, NUMBER_ROOM, &len) < 0) {
            PyErr_SetString(PyExc_ValueError, "a number the engine cannot take");
            return -1;
        }
        if ((key = text_key = PyBytes_FromStringAndSize(number, (Py_ssize_t)len)) == NULL) {
            return -1;
        }
    }
    Py_ssize_t at = -1;
    PyObject *found = PyDict_GetItemWithError(t->index[type], key);
    if (found != NULL) {
        at = PyLong_AsSsize_t(found);
    } else if (!PyErr_Occurred()) {
        at = new_scalar(t, key, value, type, number, len);
    }
    Py_XDECREF(text_key);
    return at;
}

static int scalar_type(PyObject *value) {
    PyTypeObject *type = Py_TYPE(value);
    return type == &PyUnicode_Type ? T_STR : type == &PyLong_Type ? T_INT : type == &PyFloat_Type ? T_FLOAT : -1;
}

static int record_scalar(Tape *t, PyObject *value, int type) {
    Py_ssize_t at = scalar_at(t, value, type);
    return at < 0 ? -1 : emit(t, (uint32_t)at << TAG_BITS | W_SCALAR);
}

/* A dict's key handed as it is: a str, as its position among the distinct scalars. */
static int record_key(Tape *t, PyObject *key) {
    Py_ssize_t at = text_key(key) ? scalar_at(t, key, T_STR) : -1;
    return at < 0 ? -1 : emit(t, (uint32_t)at);
}

/* A container's header at `head` completed: its size, and the words written after its header. */
static int close_header(Tape *t, size_t head, Py_ssize_t size, size_t header) {
    size_t after = t->used - head - header;
    if ((size_t)size > WORD_MAX || after > UINT32_MAX) {
        return too_large();
    }
    t->words[head] |= (uint32_t)size << TAG_BITS;
    t->words[head + header - 1] = (uint32_t)after;
    return 0;
}

static int record(Tape *t, PyObject *value, Py_ssize_t context);

/* A dict: under a context, the fields it holds (as field numbers); else every key, each a str. */
static int record_dict(Tape *t, PyObject *dict, Py_ssize_t context) {
    size_t head = t->used;
    if (emit(t, W_OBJECT) < 0 || emit(t, (uint32_t)(context + 1)) < 0 || emit(t, 0) < 0) {
        return -1;
    }
    PyObject *fields = context < 0 ? NULL : PyList_GET_ITEM(t->unions, context);
    Py_ssize_t inner = context >= 0 && t->deep[context] ? context : -1;
    PyObject *key, *value;
    Py_ssize_t pos = 0, size = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (fields == NULL) {
            if (record_key(t, key) < 0) {
                return -1;
            }
        } else { /* a key it holds is a str; any other is a field no policy names */
            PyObject *number = PyDict_GetItemWithError(fields, key);
            if (number == NULL) {
                if (PyErr_Occurred()) {
                    return -1;
                }
                continue;
            }
            Py_ssize_t field = PyLong_AsSsize_t(number); /* checked to lie in range when the tape began */
            if (t->field_at[field] == UNSEEN) {
                Py_ssize_t at = scalar_at(t, key, T_STR);
                if (at < 0) {
                    return -1;
                }
                t->field_at[field] = (uint32_t)at;
            }
            if (emit(t, (uint32_t)field) < 0) {
                return -1;
            }
        }
        if (record(t, value, inner) < 0) {
            return -1;
        }
        size++;
    }
    return close_header(t, head, size, 3);
}

static int record_sequence(Tape *t, PyObject *seq, Py_ssize_t context) {
    size_t head = t->used;
    if (emit(t, W_ARRAY) < 0 || emit(t, 0) < 0) {
        return -1;
    }
    /* as push_slim: only a list of records is chosen from, anything else goes whole */
    Py_ssize_t inner = Py_TYPE(seq) == &PyList_Type && records(seq) ? context : -1;
    Py_ssize_t size = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < size; i++) {
        if (record(t, items[i], inner) < 0) {
            return -1;
        }
    }
    return close_header(t, head, size, 2);
}

static int record(Tape *t, PyObject *value, Py_ssize_t context) {
    int type = scalar_type(value);
    if (type >= 0) {
        return record_scalar(t, value, type);
    }
    if (value == Py_True || value == Py_False || value == Py_None) {
        return emit(t, value == Py_True ? W_TRUE : value == Py_False ? W_FALSE : W_NULL);
    }
    PyTypeObject *kind = Py_TYPE(value);
    if (kind != &PyDict_Type && kind != &PyList_Type && kind != &PyTuple_Type) {
        PyErr_Format(PyExc_ValueError, "cannot hand a %s to the engine", kind->tp_name);
        return -1;
    }
    if (enter(&t->depth) < 0) {
        return -1;
    }
    int done = kind == &PyDict_Type ? record_dict(t, value, context) : record_sequence(t, value, context);
    leave(&t->depth);
    return done;
}

/* The document's top: a dict of `items`, each (key, value, its context or -1 for whole). */
static int record_top(Tape *t, PyObject *items) {
    size_t head = t->used;
    if (emit(t, W_OBJECT) < 0 || emit(t, 0) < 0 || emit(t, 0) < 0) {
        return -1;
    }
    Py_ssize_t size = PyList_GET_SIZE(items);
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *key, *value;
        Py_ssize_t context;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(items, i), "OOn", &key, &value, &context)) {
            return -1;
        }
        if (context < -1 || context >= t->contexts) {
            PyErr_SetString(PyExc_ValueError, "an item's context is not one of the tape's");
            return -1;
        }
        if (record_key(t, key) < 0 || record(t, value, context) < 0) {
            return -1;
        }
    }
    return close_header(t, head, size, 3);
}

/* ---- a build: the words into nodes ---- */

/* A scalar's nodes, made the first time the build takes it. */
static Shared *shared_nodes(Tape *t, Shared *s) {
    if (s->scalar == NULL) {
        Location at = t->at;
        at.pos = s->pos, at.len = s->len;
        void *leaf = NULL;
        t->create_at(&leaf, &t->tokens[s->kind], &at);
        s->scalar = node_with(t, K_SCALAR, &leaf, 1);
        t->release(leaf);
        s->term = node_with(t, K_TERM, &s->scalar, 1);
    }
    return s;
}

/* Where the value recorded at `at` ends. */
static size_t skipped(const uint32_t *words, size_t at) {
    uint32_t tag = words[at] & ((1u << TAG_BITS) - 1);
    return tag == W_ARRAY ? at + 2 + words[at + 1] : tag == W_OBJECT ? at + 3 + words[at + 2] : at + 1;
}

typedef struct {
    int32_t rank;
    uint32_t key; /* its position among the distinct scalars */
    size_t value; /* where its value is recorded */
} Chosen;

static void *replay(Tape *t, size_t at, int32_t *const *ranks, bool in_term, bool *owned);

static void release_all(Tape *t, void **nodes, const bool *owned, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (owned[i]) {
            t->release(nodes[i]);
        }
    }
}

/* An Object of the dict recorded at `at`: the fields its context ranks (in rank order; all, in
 * their order, when it has none). NULL when out of memory. */
static void *replay_object(Tape *t, size_t at, int32_t *const *ranks) {
    const uint32_t *words = t->words;
    size_t size = words[at] >> TAG_BITS, item = at + 3;
    const int32_t *rank = words[at + 1] ? ranks[words[at + 1] - 1] : NULL;
    Chosen on_stack[ON_STACK];
    Chosen *chosen = size <= ON_STACK ? on_stack : PyMem_New(Chosen, size);
    void **nodes = PyMem_New(void *, size ? size : 1);
    if (chosen == NULL || nodes == NULL) {
        if (chosen != on_stack) {
            PyMem_Free(chosen);
        }
        PyMem_Free(nodes);
        PyErr_NoMemory();
        return NULL;
    }
    size_t kept = 0;
    for (size_t i = 0; i < size; i++) {
        uint32_t key = words[item];
        size_t value = item + 1;
        item = skipped(words, value);
        int32_t r = (int32_t)kept;
        if (rank != NULL) {
            if ((r = rank[key]) < 0) {
                continue;
            }
            key = t->field_at[key];
        }
        size_t place = kept++; /* stable: equal ranks keep the order they were recorded in */
        while (place > 0 && chosen[place - 1].rank > r) {
            chosen[place] = chosen[place - 1];
            place--;
        }
        chosen[place] = (Chosen){r, key, value};
    }
    void *node = NULL;
    size_t made = 0;
    for (; made < kept; made++) {
        bool value_owned;
        void *value = replay(t, chosen[made].value, ranks, true, &value_owned);
        if (value == NULL) {
            break;
        }
        void *pair[2] = {shared_nodes(t, &t->shared[chosen[made].key])->term, value};
        nodes[made] = node_with(t, K_ITEM, pair, 2);
        if (value_owned) {
            t->release(value);
        }
    }
    if (made == kept) {
        node = node_with(t, K_OBJECT, nodes, kept);
    }
    for (size_t i = 0; i < made; i++) {
        t->release(nodes[i]);
    }
    if (chosen != on_stack) {
        PyMem_Free(chosen);
    }
    PyMem_Free(nodes);
    return node;
}

static void *replay_array(Tape *t, size_t at, int32_t *const *ranks) {
    size_t size = t->words[at] >> TAG_BITS, item = at + 2;
    void **nodes = PyMem_New(void *, size ? size : 1);
    bool *owned = PyMem_New(bool, size ? size : 1);
    void *node = NULL;
    size_t made = 0;
    if (nodes == NULL || owned == NULL) {
        PyErr_NoMemory();
    } else {
        for (; made < size; made++, item = skipped(t->words, item)) {
            if ((nodes[made] = replay(t, item, ranks, false, &owned[made])) == NULL) {
                break;
            }
        }
        if (made == size) {
            node = node_with(t, K_ARRAY, nodes, size);
        }
        release_all(t, nodes, owned, made);
    }
    PyMem_Free(nodes);
    PyMem_Free(owned);
    return node;
}

/* The node of the value recorded at `at`, a Term around it when `in_term`; `*owned` says whether
 * the caller holds a reference of its own (a container) or borrows a shared scalar's. NULL when
 * out of memory. */
static void *replay(Tape *t, size_t at, int32_t *const *ranks, bool in_term, bool *owned) {
    uint32_t word = t->words[at], tag = word & ((1u << TAG_BITS) - 1);
    *owned = false;
    if (tag == W_SCALAR || tag == W_TRUE || tag == W_FALSE || tag == W_NULL) {
        Shared *s = shared_nodes(t, tag == W_SCALAR ? &t->shared[word >> TAG_BITS] : &t->fixed[tag - W_TRUE]);
        return in_term ? s->term : s->scalar;
    }
    void *node = tag == W_ARRAY ? replay_array(t, at, ranks) : replay_object(t, at, ranks);
    if (node != NULL && in_term) {
        void *term = node_with(t, K_TERM, &node, 1);
        t->release(node);
        node = term;
    }
    *owned = node != NULL;
    return node;
}

/* ---- the Tape type ---- */

static bool read_functions(Tape *t, PyObject *functions, PyObject *tokens) {
    PyObject *f[6], *k[K_COUNT];
    if (!PyArg_ParseTuple(functions, "OOOOOO", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5])
        || !PyArg_ParseTuple(tokens, "OOOOOOOOOOO", &k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8],
                             &k[9], &k[10])) {
        return false;
    }
    void *at[6];
    for (int i = 0; i < 6; i++) {
        if ((at[i] = PyLong_AsVoidPtr(f[i])) == NULL) {
            goto null;
        }
    }
    for (int i = 0; i < K_COUNT; i++) {
        if ((t->tokens[i] = PyLong_AsVoidPtr(k[i])) == NULL) {
            goto null;
        }
    }
    t->create = (create_fn)at[0], t->create_at = (create_at_fn)at[1], t->push_back = (push_back_fn)at[2];
    t->release = (release_fn)at[3], t->release_source = (release_fn)at[4], t->location = (location_fn)at[5];
    return true;
null:
    if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "a null address for a function or token");
    }
    return false;
}

/* The contexts: a list of dicts (field name -> field number below `fields`), and whether each is deep. */
static bool read_contexts(Tape *t, PyObject *unions, PyObject *deep, Py_ssize_t fields) {
    t->contexts = PyList_GET_SIZE(unions), t->fields = fields;
    if (PyTuple_GET_SIZE(deep) != t->contexts || fields < 0 || (size_t)fields > WORD_MAX) {
        PyErr_SetString(PyExc_ValueError, "one deep flag per context, and a field count in range");
        return false;
    }
    t->deep = PyMem_New(bool, t->contexts ? t->contexts : 1);
    t->field_at = PyMem_New(uint32_t, fields ? fields : 1);
    if (t->deep == NULL || t->field_at == NULL) {
        PyErr_NoMemory();
        return false;
    }
    for (Py_ssize_t i = 0; i < fields; i++) {
        t->field_at[i] = UNSEEN;
    }
    for (Py_ssize_t c = 0; c < t->contexts; c++) {
        PyObject *names = PyList_GET_ITEM(unions, c), *name, *number;
        Py_ssize_t pos = 0;
        if (!PyDict_CheckExact(names)) {
            PyErr_SetString(PyExc_TypeError, "a context is a dict of field name -> field number");
            return false;
        }
        while (PyDict_Next(names, &pos, &name, &number)) {
            Py_ssize_t field = PyLong_Check(number) ? PyLong_AsSsize_t(number) : -1;
            if (field < 0 || field >= fields) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "a field number out of range");
                return false;
            }
        }
        t->deep[c] = PyObject_IsTrue(PyTuple_GET_ITEM(deep, c)) == 1;
    }
    Py_INCREF(unions);
    t->unions = unions;
    return true;
}

/* The scalars' nodes let go by the tape: those a built input took live on in it. */
static void forget(Tape *t, Shared *s) {
    if (s->scalar != NULL) {
        t->release(s->term);
        t->release(s->scalar);
        s->scalar = s->term = NULL;
    }
}

static void forget_nodes(Tape *t) {
    for (size_t i = 0; i < t->count; i++) {
        forget(t, &t->shared[i]);
    }
    for (int i = 0; i < 3; i++) {
        forget(t, &t->fixed[i]);
    }
}

static void tape_dealloc(Tape *t) {
    if (t->at.source != NULL) {
        t->release_source(t->at.source);
    }
    for (int i = 0; i < T_COUNT; i++) {
        Py_XDECREF(t->index[i]);
    }
    Py_XDECREF(t->unions);
    PyMem_Free(t->text);
    PyMem_Free(t->deep);
    PyMem_Free(t->field_at);
    PyMem_Free(t->words);
    PyMem_Free(t->shared);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *tape_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *functions, *tokens, *items, *unions, *deep;
    Py_ssize_t fields;
    static char *names[] = {"functions", "tokens", "items", "contexts", "deep", "fields", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!O!O!O!n:Tape", names, &PyTuple_Type, &functions,
                                     &PyTuple_Type, &tokens, &PyList_Type, &items, &PyList_Type, &unions,
                                     &PyTuple_Type, &deep, &fields)) {
        return NULL;
    }
    Tape *t = (Tape *)type->tp_alloc(type, 0);
    if (t == NULL) {
        return NULL;
    }
    bool ready = read_functions(t, functions, tokens) && read_contexts(t, unions, deep, fields);
    for (int i = 0; ready && i < T_COUNT; i++) {
        ready = (t->index[i] = PyDict_New()) != NULL;
    }
    for (int i = 0; ready && i < 3; i++) {
        t->fixed[i] = (Shared){NULL, NULL, FIXED_AT[i], strlen(FIXED_TEXT[i]), K_TRUE + i};
        ready = add_text(t, FIXED_TEXT[i], strlen(FIXED_TEXT[i])) == 0;
    }
    ready = ready && record_top(t, items) == 0;
    for (int i = 0; i < T_COUNT; i++) { /* what only the walk needs goes with it */
        Py_CLEAR(t->index[i]);
    }
    Py_CLEAR(t->unions);
    if (!ready) {
        Py_DECREF(t);
        return NULL;
    }
    return (PyObject *)t;
}

/* Each context's ranks, field number -> rank (-1: left out), as C arrays; NULL with an exception set. */
static int32_t **read_ranks(Tape *t, PyObject *ranks) {
    if (PyList_GET_SIZE(ranks) != t->contexts) {
        PyErr_SetString(PyExc_ValueError, "one list of ranks per context");
        return NULL;
    }
    int32_t **arrays = PyMem_Calloc(t->contexts ? (size_t)t->contexts : 1, sizeof(int32_t *));
    if (arrays == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t c = 0; c < t->contexts; c++) {
        PyObject *list = PyList_GET_ITEM(ranks, c);
        if (!PyList_Check(list) || PyList_GET_SIZE(list) != t->fields) {
            PyErr_SetString(PyExc_ValueError, "a context's ranks are a list of one rank per field");
            goto failed;
        }
        if ((arrays[c] = PyMem_New(int32_t, t->fields ? t->fields : 1)) == NULL) {
            PyErr_NoMemory();
            goto failed;
        }
        for (Py_ssize_t f = 0; f < t->fields; f++) {
            long rank = PyLong_AsLong(PyList_GET_ITEM(list, f));
            if (rank < -1 || rank > INT32_MAX || PyErr_Occurred()) {
                if (!PyErr_Occurred()) {
                    PyErr_SetString(PyExc_ValueError, "a rank out of range");
                }
                goto failed;
            }
            arrays[c][f] = (int32_t)rank;
        }
    }
    return arrays;
failed:
    for (Py_ssize_t c = 0; c < t->contexts; c++) {
        PyMem_Free(arrays[c]);
    }
    PyMem_Free(arrays);
    return NULL;
}

PyDoc_STRVAR(tape_build_doc,
"build(ranks) -> int\n\n"
"The input recorded, as rego-cpp nodes: the address of its top `Term`, whose one reference the\n"
"caller holds. `ranks` holds, per context, the rank of each field number (-1: left out); a dict\n"
"under a context keeps the fields ranked, in rank order.");

static PyObject *tape_build(Tape *t, PyObject *args) {
    PyObject *ranks;
    if (!PyArg_ParseTuple(args, "O!:build", &PyList_Type, &ranks)) {
        return NULL;
    }
    int32_t **arrays = read_ranks(t, ranks);
    if (arrays == NULL) {
        return NULL;
    }
    PyObject *out = NULL;
    if (t->at.source == NULL) { /* the texts are all known: the source is made, once */
        StdString text = {t->text, t->size, {{0}}};
        t->location(&t->at, &text);
        if (t->at.source != NULL) {
            PyMem_Free(t->text);
            t->text = NULL;
        }
    }
    if (t->at.source == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the engine made no source for the input's text");
    } else {
        bool owned;
        void *top = replay(t, 0, arrays, true, &owned);
        /* each input its own scalars' nodes, made among its other nodes: evaluation reads them
         * together (sharing them between inputs saved little and slowed evaluation) */
        forget_nodes(t);
        out = top == NULL ? NULL : PyLong_FromVoidPtr(top);
        if (out == NULL && top != NULL) {
            t->release(top);
        }
    }
    for (Py_ssize_t c = 0; c < t->contexts; c++) {
        PyMem_Free(arrays[c]);
    }
    PyMem_Free(arrays);
    return out;
}

static PyMethodDef tape_methods[] = {
    {"build", (PyCFunction)tape_build, METH_VARARGS, tape_build_doc},
    {NULL, NULL, 0, NULL},
};

static PyObject *tape_unsafe(Tape *t, void *closure) {
    (void)closure;
    return PyBool_FromLong(t->unsafe_seen);
}

static PyGetSetDef tape_getset[] = {
    {"unsafe", (getter)tape_unsafe, NULL, "whether a string holds a character rego-cpp would not escape (see regopy_strings)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(tape_doc,
"Tape(functions, tokens, items, contexts, deep, fields)\n\n"
"A document walked once, from which `build` makes the engine's input as often as asked. `items`\n"
"is its top level, a list of (key, value, context: an index into `contexts`, or -1 to hand the\n"
"value whole); `contexts` a list of dicts of the field names a dict under that context may keep,\n"
"each -> its field number (below `fields`); `deep` per context whether the dicts inside a kept\n"
"field's value are chosen from too (else they go whole). A list whose first item is a dict has\n"
"each item chosen from as its parent is; any other list goes whole. `functions` are the addresses\n"
"of NodeDef::create(Token), NodeDef::create(Token, Location), NodeDef::push_back(span),\n"
"NodeDef's and SourceDef's intrusive_dec_ref, and Location's constructor from a std::string;\n"
"`tokens` the TokenDef addresses of Term, Scalar, JSONString, Int, Float, True, False, Null,\n"
"ObjectItem, Object, Array.");

static PyTypeObject TapeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "amisec.engine._handover.Tape",
    .tp_basicsize = sizeof(Tape),
    .tp_dealloc = (destructor)tape_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = tape_doc,
    .tp_methods = tape_methods,
    .tp_getset = tape_getset,
    .tp_new = tape_new,
};

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
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_handover", "The input hand-over's walk in C (see regopy_input.py).", -1, methods,
};

PyMODINIT_FUNC PyInit__handover(void) {
    if (PyType_Ready(&TapeType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddObjectRef(m, "Tape", (PyObject *)&TapeType) < 0) {
        Py_CLEAR(m);
    }
    return m;
}
