/* The parser's fast loop in C: the steps of `lalr_loop._run` (Lark's contextual lexer and LALR loop
 * over the tables `FastTables` makes), taken without the interpreter's per-step dispatch. Tokens,
 * tree callbacks and tables are Lark's own Python objects, so the tree is the one Lark makes; any
 * text the tables do not take (a syntax error, a state without a lexer) raises the `not_here`
 * exception given, and Lark's own loop parses it again to describe the error. Optional: without a
 * C compiler the same loop runs in Python, more slowly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The grammar has a few hundred LALR states; a state numbered beyond this is looked up each time. */
#define KNOWN 1024
#define TOKEN_FIELDS 8

static PyObject *s_lastgroup, *s_end, *s_end_of_text, *s_children;
/* A token's fields in the order `make_token` fills them. */
static PyObject *fields[TOKEN_FIELDS];
static const char *field_names[TOKEN_FIELDS] = {"type", "value", "start_pos", "end_pos", "line", "column",
                                                "end_line", "end_column"};
enum { TYPE, VALUE, START_POS, END_POS, LINE, COLUMN, END_LINE, END_COLUMN };

typedef struct {
    PyObject *tables;     /* FastTables: state -> (moves, reductions, lexer), made on first use */
    PyObject *text;
    Py_ssize_t stop;      /* where the text parsed ends: a token may not run past it */
    PyObject *token_type; /* lark.Token */
    PyObject *str_new;    /* str.__new__ */
    PyObject *not_here;   /* the exception that hands the text to Lark's loop */
    PyObject **states;    /* the state stack (strong references) */
    Py_ssize_t depth, room;
    PyObject *values;     /* the value stack */
    PyObject *entry;      /* the current state's tables entry (in `known`, or `held`) */
    PyObject *held;       /* the entry of a state numbered beyond `known` (strong) */
    PyObject *known[KNOWN]; /* the entries of the states seen, by number (strong references) */
    PyObject *setters[TOKEN_FIELDS]; /* Token's data descriptors for its fields, in FIELDS order */
} Loop;

static int not_here(Loop *loop, const char *why) {
    PyErr_SetString(loop->not_here, why);
    return -1;
}

/* Make `state` the current one: its entry from the tables, looked up once per state number. */
static int enter(Loop *loop, PyObject *state) {
    Py_ssize_t number = PyLong_AsSsize_t(state);
    if (number == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (number >= 0 && number < KNOWN && loop->known[number] != NULL) {
        loop->entry = loop->known[number];
        return 0;
    }
    PyObject *entry = PyObject_GetItem(loop->tables, state);
    if (entry == NULL) {
        return -1;
    }
    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 3) {
        Py_DECREF(entry);
        return not_here(loop, "a tables entry is not (moves, reductions, lexer)");
    }
    if (number >= 0 && number < KNOWN) {
        loop->known[number] = entry;
    } else { /* held here, not borrowed from the tables: Python code runs while it is in use */
        Py_XSETREF(loop->held, entry);
    }
    loop->entry = entry;
    return 0;
}

static int push_state(Loop *loop, PyObject *state) {
    if (loop->depth == loop->room) {
        Py_ssize_t room = loop->room * 2;
        PyObject **grown = PyMem_Realloc(loop->states, room * sizeof(PyObject *));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        loop->states = grown;
        loop->room = room;
    }
    Py_INCREF(state);
    loop->states[loop->depth++] = state;
    return enter(loop, state);
}

static PyObject *child_at(Loop *loop, PyObject *children, PyObject *index) {
    Py_ssize_t i = PyLong_AsSsize_t(index);
    if (i < 0 || i >= PyList_GET_SIZE(children)) {
        if (!PyErr_Occurred()) {
            not_here(loop, "a tree plan names a child the rule does not have");
        }
        return NULL;
    }
    return PyList_GET_ITEM(children, i);
}

/* An inlined child's own children (a tree's list). */
static PyObject *children_of(Loop *loop, PyObject *child) {
    PyObject *list = PyObject_GetAttr(child, s_children);
    if (list != NULL && !PyList_Check(list)) {
        Py_DECREF(list);
        not_here(loop, "an inlined child without a list of children");
        return NULL;
    }
    return list;
}

/* `count` Nones at the end of `list` (Lark's placeholders for optional parts left out). */
static int append_nones(PyObject *list, Py_ssize_t count) {
    while (count--) {
        if (PyList_Append(list, Py_None) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Lark's `ChildFilterLALR`: the children kept, inlined ones' children in their place, Nones for
 * the optional parts left out; the first inlined child's own list is taken when nothing precedes
 * it, as Lark takes it. */
static PyObject *filtered(Loop *loop, PyObject *children, PyObject *ops, Py_ssize_t append_none) {
    if (!PyTuple_Check(ops)) {
        return not_here(loop, "a tree plan's children are not a tuple"), NULL;
    }
    PyObject *kept = PyList_New(0);
    if (kept == NULL) {
        return NULL;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(ops); k++) {
        PyObject *op = PyTuple_GET_ITEM(ops, k);
        if (!PyTuple_Check(op) || PyTuple_GET_SIZE(op) != 3) {
            Py_DECREF(kept);
            return not_here(loop, "a tree plan's child is not (index, inlined, nones)"), NULL;
        }
        Py_ssize_t nones = PyLong_AsSsize_t(PyTuple_GET_ITEM(op, 2));
        if (nones < 0) {
            Py_DECREF(kept);
            return PyErr_Occurred() ? NULL : (not_here(loop, "a tree plan with fewer than no Nones"), NULL);
        }
        PyObject *child = child_at(loop, children, PyTuple_GET_ITEM(op, 0));
        if (child == NULL) {
            Py_DECREF(kept);
            return NULL;
        }
        if (append_nones(kept, nones) < 0) {
            Py_DECREF(kept);
            return NULL;
        }
        int failed;
        if (PyTuple_GET_ITEM(op, 1) == Py_True) {
            PyObject *inner = children_of(loop, child);
            if (inner == NULL) {
                Py_DECREF(kept);
                return NULL;
            }
            if (PyList_GET_SIZE(kept) == 0) {
                Py_SETREF(kept, inner);
                continue;
            }
            failed = PyList_SetSlice(kept, PyList_GET_SIZE(kept), PyList_GET_SIZE(kept), inner);
            Py_DECREF(inner);
        } else {
            failed = PyList_Append(kept, child);
        }
        if (failed < 0) {
            Py_DECREF(kept);
            return NULL;
        }
    }
    if (append_nones(kept, append_none) < 0) {
        Py_DECREF(kept);
        return NULL;
    }
    return kept;
}

/* The tree a reduction makes of its children: as its plan (lalr_loop._plan) says, or by its callback. */
static PyObject *make_tree(Loop *loop, PyObject *reduction, PyObject *children) {
    PyObject *plan = PyTuple_GET_ITEM(reduction, 3);
    if (plan == Py_None) {
        return PyObject_CallOneArg(PyTuple_GET_ITEM(reduction, 1), children);
    }
    if (!PyTuple_Check(plan) || PyTuple_GET_SIZE(plan) != 5) {
        return not_here(loop, "a tree plan is not (builder, children, nones, single, grown)"), NULL;
    }
    PyObject *builder = PyTuple_GET_ITEM(plan, 0), *ops = PyTuple_GET_ITEM(plan, 1),
             *grown = PyTuple_GET_ITEM(plan, 4);
    if (grown != Py_None) { /* a repetition's step: the tree so far, with the step's children added */
        PyObject *tree = PyList_GET_SIZE(children) ? PyList_GET_ITEM(children, 0) : NULL;
        PyObject *inner = tree && PyTuple_Check(grown) ? children_of(loop, tree) : NULL;
        if (inner == NULL) {
            return PyErr_Occurred() ? NULL : (not_here(loop, "a repetition's step without its tree"), NULL);
        }
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(grown); k++) {
            PyObject *child = child_at(loop, children, PyTuple_GET_ITEM(grown, k));
            if (child == NULL || PyList_Append(inner, child) < 0) {
                Py_DECREF(inner);
                return NULL;
            }
        }
        Py_DECREF(inner);
        Py_INCREF(tree);
        return tree;
    }
    Py_ssize_t append_none = PyLong_AsSsize_t(PyTuple_GET_ITEM(plan, 2));
    if (append_none < 0) {
        return PyErr_Occurred() ? NULL : (not_here(loop, "a tree plan with fewer than no Nones"), NULL);
    }
    PyObject *kept = ops == Py_None ? (Py_INCREF(children), children) : filtered(loop, children, ops, append_none);
    if (kept == NULL) {
        return NULL;
    }
    PyObject *tree;
    if (PyTuple_GET_ITEM(plan, 3) == Py_True && PyList_GET_SIZE(kept) == 1) { /* `?rule` of one child */
        tree = PyList_GET_ITEM(kept, 0);
        Py_INCREF(tree);
    } else {
        tree = PyObject_CallOneArg(builder, kept);
    }
    Py_DECREF(kept);
    return tree;
}

/* `ParserState.reduce`: the rule's values become its tree, its states the state after it. */
static int reduce_held(Loop *loop, PyObject *reduction);

/* `reduce_held` with the reduction held: it is taken from a tables entry that Python code run on
 * the way (a tree callback, the tables' `__missing__`) could replace. */
static int reduce(Loop *loop, PyObject *reduction) {
    Py_INCREF(reduction);
    int done = reduce_held(loop, reduction);
    Py_DECREF(reduction);
    return done;
}

static int reduce_held(Loop *loop, PyObject *reduction) {
    if (!PyTuple_Check(reduction) || PyTuple_GET_SIZE(reduction) != 4) {
        return not_here(loop, "a reduction is not (length, callback, rule, plan)");
    }
    Py_ssize_t length = PyLong_AsSsize_t(PyTuple_GET_ITEM(reduction, 0));
    if (length < 0 || length >= loop->depth) {
        return PyErr_Occurred() ? -1 : not_here(loop, "a reduction longer than the stack");
    }
    Py_ssize_t size = PyList_GET_SIZE(loop->values);
    PyObject *children = PyList_GetSlice(loop->values, size - length, size);
    if (children == NULL || PyList_SetSlice(loop->values, size - length, size, NULL) < 0) {
        Py_XDECREF(children);
        return -1;
    }
    while (length--) {
        Py_DECREF(loop->states[--loop->depth]);
    }
    if (enter(loop, loop->states[loop->depth - 1]) < 0) {
        Py_DECREF(children);
        return -1;
    }
    PyObject *target = PyDict_GetItemWithError(PyTuple_GET_ITEM(loop->entry, 0), PyTuple_GET_ITEM(reduction, 2));
    if (target == NULL) {
        Py_DECREF(children);
        return PyErr_Occurred() ? -1 : not_here(loop, "no move after this rule");
    }
    if (push_state(loop, target) < 0) {
        Py_DECREF(children);
        return -1;
    }
    PyObject *tree = make_tree(loop, reduction, children);
    Py_DECREF(children);
    if (tree == NULL) {
        return -1;
    }
    int appended = PyList_Append(loop->values, tree);
    Py_DECREF(tree);
    return appended;
}

/* Reduce as long as the current state says so for `type`, then shift `token`. */
static int feed(Loop *loop, PyObject *type, PyObject *token) {
    for (;;) {
        PyObject *target = PyDict_GetItemWithError(PyTuple_GET_ITEM(loop->entry, 0), type);
        if (target != NULL) {
            if (PyList_Append(loop->values, token) < 0) {
                return -1;
            }
            return push_state(loop, target);
        }
        if (PyErr_Occurred()) {
            return -1;
        }
        PyObject *reduction = PyDict_GetItemWithError(PyTuple_GET_ITEM(loop->entry, 1), type);
        if (reduction == NULL) {
            return PyErr_Occurred() ? -1 : not_here(loop, "no action for this terminal here");
        }
        if (reduce(loop, reduction) < 0) {
            return -1;
        }
    }
}

/* token.<field> = value, through the field's slot descriptor on Token where it has one (what
 * setting the attribute comes to, without looking the name up each time). */
static int set_field(Loop *loop, PyObject *token, int field, PyObject *value) {
    PyObject *setter = loop->setters[field];
    if (setter != NULL) {
        return Py_TYPE(setter)->tp_descr_set(setter, token, value);
    }
    return PyObject_SetAttr(token, fields[field], value);
}

static int set_int(Loop *loop, PyObject *token, int field, Py_ssize_t value) {
    PyObject *number = PyLong_FromSsize_t(value);
    if (number == NULL) {
        return -1;
    }
    int done = set_field(loop, token, field, number);
    Py_DECREF(number);
    return done;
}

/* A token as Lark's constructor fills it (without its keyword-deprecation check). */
static PyObject *make_token(Loop *loop, PyObject *type, PyObject *value, Py_ssize_t start, Py_ssize_t end,
                            Py_ssize_t line, Py_ssize_t column, Py_ssize_t end_line, Py_ssize_t end_column) {
    PyObject *args[2] = {loop->token_type, value};
    PyObject *token = PyObject_Vectorcall(loop->str_new, args, 2, NULL);
    if (token == NULL) {
        return NULL;
    }
    if (set_field(loop, token, TYPE, type) < 0 || set_field(loop, token, VALUE, value) < 0 ||
        set_int(loop, token, START_POS, start) < 0 || set_int(loop, token, END_POS, end) < 0 ||
        set_int(loop, token, LINE, line) < 0 || set_int(loop, token, COLUMN, column) < 0 ||
        set_int(loop, token, END_LINE, end_line) < 0 || set_int(loop, token, END_COLUMN, end_column) < 0) {
        Py_DECREF(token);
        return NULL;
    }
    return token;
}

/* Token's slot descriptors for its fields; a field that is not a slot is set by name. */
static void find_setters(Loop *loop) {
    for (int i = 0; i < TOKEN_FIELDS; i++) {
        PyObject *found = PyObject_GetAttr(loop->token_type, fields[i]);
        if (found != NULL && PyObject_TypeCheck(found, &PyMemberDescr_Type)) {
            loop->setters[i] = found;
        } else {
            Py_XDECREF(found);
            PyErr_Clear();
        }
    }
}

typedef struct {
    Py_ssize_t pos, line, line_start;
} Position;

/* One step of the lexer and the parser at `at`: 1 when a token was fed or skipped, -1 on error. */
static int step(Loop *loop, Position *at) {
    PyObject *lexer = PyTuple_GET_ITEM(loop->entry, 2);
    if (!PyTuple_Check(lexer) || PyTuple_GET_SIZE(lexer) != 5) {
        return not_here(loop, "no lexer for this state");
    }
    PyObject *match = PyTuple_GET_ITEM(lexer, 0), *ignored = PyTuple_GET_ITEM(lexer, 1),
             *newlines = PyTuple_GET_ITEM(lexer, 2), *callbacks = PyTuple_GET_ITEM(lexer, 3),
             *keywords = PyTuple_GET_ITEM(lexer, 4);
    if (!PyAnySet_Check(ignored) || !PyAnySet_Check(newlines) || !PyDict_Check(callbacks) || !PyDict_Check(keywords)) {
        return not_here(loop, "a lexer is not (match, ignored, newlines, callbacks, keywords)");
    }
    PyObject *type = NULL, *value = NULL, *token = NULL;
    int result = -1;
    PyObject *pos = PyLong_FromSsize_t(at->pos);
    if (pos == NULL) {
        return -1;
    }
    PyObject *args[2] = {loop->text, pos};
    PyObject *found = PyObject_Vectorcall(match, args, 2, NULL);
    Py_DECREF(pos);
    if (found == NULL) {
        return -1;
    }
    if (found == Py_None) {
        Py_DECREF(found);
        return not_here(loop, "no terminal matches here");
    }
    type = PyObject_GetAttr(found, s_lastgroup);
    PyObject *end_object = type ? PyObject_CallMethodNoArgs(found, s_end) : NULL;
    Py_DECREF(found);
    if (end_object == NULL) {
        goto done;
    }
    Py_ssize_t end = PyLong_AsSsize_t(end_object);
    Py_DECREF(end_object);
    if (end == -1 && PyErr_Occurred()) {
        goto done;
    }
    if (end <= at->pos || end > loop->stop) {
        not_here(loop, "a match that does not move forward within the text parsed");
        goto done;
    }
    if ((value = PyUnicode_Substring(loop->text, at->pos, end)) == NULL) {
        goto done;
    }
    Position next = {end, at->line, at->line_start};
    int has_newlines = PySet_Contains(newlines, type);
    if (has_newlines < 0) {
        goto done;
    }
    if (has_newlines) {
        for (Py_ssize_t i = at->pos; i < end; i++) {
            if (PyUnicode_READ_CHAR(loop->text, i) == '\n') {
                next.line++;
                next.line_start = i + 1;
            }
        }
    }
    int is_ignored = PySet_Contains(ignored, type), has_callback = PyDict_Contains(callbacks, type);
    if (is_ignored < 0 || has_callback < 0) {
        goto done;
    }
    if (is_ignored && !has_callback) {
        *at = next;
        result = 1;
        goto done;
    }
    token = make_token(loop, type, value, at->pos, end, at->line, at->pos - at->line_start + 1, next.line,
                       end - next.line_start + 1);
    if (token == NULL) {
        goto done;
    }
    *at = next;
    PyObject *table = PyDict_GetItemWithError(keywords, type);
    if (table != NULL) {
        PyObject *keyword = PyDict_GetItemWithError(table, value);
        if (keyword != NULL) {
            if (set_field(loop, token, TYPE, keyword) < 0) {
                goto done;
            }
            Py_INCREF(keyword);
            Py_SETREF(type, keyword);
        } else if (PyErr_Occurred()) {
            goto done;
        }
    } else if (PyErr_Occurred()) {
        goto done;
    } else if (has_callback) {
        PyObject *callback = PyDict_GetItemWithError(callbacks, type);
        if (callback == NULL) {
            if (!PyErr_Occurred()) {
                not_here(loop, "a token callback that went away");
            }
            goto done;
        }
        Py_INCREF(callback);
        PyObject *retyped = PyObject_CallOneArg(callback, token);
        Py_DECREF(callback);
        Py_SETREF(token, retyped);
        if (token == NULL) {
            goto done;
        }
        if (is_ignored) {
            result = 1;
            goto done;
        }
        Py_SETREF(type, PyObject_GetAttr(token, fields[TYPE]));
        if (type == NULL) {
            goto done;
        }
    }
    result = feed(loop, type, token) < 0 ? -1 : 1;
done:
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(token);
    return result;
}

/* The tree of the text from `at` (a line's start) to `loop->stop`. */
static PyObject *parse_all(Loop *loop, PyObject *start, Py_ssize_t end_state, Position at) {
    if (push_state(loop, start) < 0) {
        return NULL;
    }
    while (at.pos < loop->stop) {
        if (step(loop, &at) < 0) {
            return NULL;
        }
    }
    for (;;) { /* the end of the text: reduce up to the start rule */
        PyObject *reduction = PyDict_GetItemWithError(PyTuple_GET_ITEM(loop->entry, 1), s_end_of_text);
        if (reduction == NULL) {
            if (!PyErr_Occurred()) {
                not_here(loop, "the text ends too early");
            }
            return NULL;
        }
        if (reduce(loop, reduction) < 0) {
            return NULL;
        }
        Py_ssize_t state = PyLong_AsSsize_t(loop->states[loop->depth - 1]);
        if (state == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (state == end_state) {
            Py_ssize_t size = PyList_GET_SIZE(loop->values);
            PyObject *tree = PyList_GET_ITEM(loop->values, size - 1);
            Py_INCREF(tree);
            return tree;
        }
    }
}

static PyObject *run(PyObject *self, PyObject *args) {
    Loop loop = {0};
    PyObject *start;
    Py_ssize_t end_state, begin = 0, line = 1;
    loop.stop = -1;
    if (!PyArg_ParseTuple(args, "OOnUO!OO|nnn:run", &loop.tables, &start, &end_state, &loop.text, &PyType_Type,
                          &loop.token_type, &loop.str_new, &loop.not_here, &begin, &loop.stop, &line)) {
        return NULL;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(loop.text);
    loop.stop = loop.stop < 0 || loop.stop > size ? size : loop.stop;
    if (begin < 0 || begin > loop.stop || line < 1) {
        PyErr_SetString(PyExc_ValueError, "begin must lie within the text, before stop, and line be 1 or more");
        return NULL;
    }
    find_setters(&loop);
    loop.room = 64;
    loop.states = PyMem_Malloc(loop.room * sizeof(PyObject *));
    loop.values = PyList_New(0);
    PyObject *tree = NULL;
    if (loop.states == NULL || loop.values == NULL) {
        PyErr_NoMemory();
    } else {
        tree = parse_all(&loop, start, end_state, (Position){begin, line, begin});
    }
    while (loop.depth) {
        Py_DECREF(loop.states[--loop.depth]);
    }
    PyMem_Free(loop.states);
    Py_XDECREF(loop.values);
    for (int i = 0; i < KNOWN; i++) {
        Py_XDECREF(loop.known[i]);
    }
    Py_XDECREF(loop.held);
    for (int i = 0; i < TOKEN_FIELDS; i++) {
        Py_XDECREF(loop.setters[i]);
    }
    return tree;
}

static PyMethodDef methods[] = {
    {"run", run, METH_VARARGS,
     "run(tables, start, end, text, Token, str_new, not_here, begin=0, stop=-1, line=1) -> the tree of\n"
     "text[begin:stop] (stop -1: the end), `begin` a line's start numbered `line`, positions those in\n"
     "`text` (lalr_loop._run's loop)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lalr", NULL, -1, methods};

PyMODINIT_FUNC PyInit__lalr(void) {
    const char *names[] = {"lastgroup", "end", "$END", "children"};
    PyObject **slots[] = {&s_lastgroup, &s_end, &s_end_of_text, &s_children};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((*slots[i] = PyUnicode_InternFromString(names[i])) == NULL) {
            return NULL;
        }
    }
    for (int i = 0; i < TOKEN_FIELDS; i++) {
        if ((fields[i] = PyUnicode_InternFromString(field_names[i])) == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&module);
}
