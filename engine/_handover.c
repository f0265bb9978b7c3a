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
        int overflow = 0;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow) {
            PyErr_SetString(PyExc_OverflowError, "an integer too large for the engine (64 bits)");
            return -1;
        }
        if (number == -1 && PyErr_Occurred()) {
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

static int push_slim(Api *api, PyObject *value, PyObject *ranking, uint32_t *bad);

static int push_slim_dict(Api *api, PyObject *dict, PyObject *ranking, uint32_t *bad) {
    Kept on_stack[64];
    Py_ssize_t size = PyDict_GET_SIZE(dict);
    Kept *kept = size <= 64 ? on_stack : PyMem_New(Kept, size);
    if (kept == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0, count = 0;
    int done = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        PyObject *rank = PyDict_GetItemWithError(ranking, key);
        if (rank == NULL) {
            if (PyErr_Occurred()) {
                done = -1;
                break;
            }
            continue; /* a field no policy names (as any key that is not a str) */
        }
        long r = PyLong_AsLong(rank);
        if (r == -1 && PyErr_Occurred()) {
            done = -1;
            break;
        }
        Py_ssize_t at = count++; /* insertion sort: an element has a few dozen fields at most */
        while (at > 0 && kept[at - 1].rank > r) {
            kept[at] = kept[at - 1];
            at--;
        }
        kept[at] = (Kept){r, key, value};
    }
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
    bool records = type == &PyList_Type && PyList_GET_SIZE(value) > 0 && PyDict_Check(PyList_GET_ITEM(value, 0));
    if (!dict && !records) {
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
    return PyModule_Create(&module);
}
