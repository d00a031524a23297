/* Python module cmim_dense.ops._bitconv: the engine's C-API.
 *
 * Tensors are passed as raw addresses (torch ``Tensor.data_ptr()``) with
 * their shapes and strides (in elements); the caller
 * (cmim_dense.ops.bitconv) checks
 * dtypes, devices and sizes and keeps the tensors alive during the call.
 * The GIL is released while the kernels run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "bitconv.h"

static const bc_kernels *bc_all[] = {&bc_kernels_avx512, &bc_kernels_avx2,
                                     &bc_kernels_popcnt, &bc_kernels_scalar};
static const bc_kernels *bc_current = NULL;

static int bc_supported(const bc_kernels *k) {
    if (!k->conv_rows) return 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (k == &bc_kernels_avx512)
        return __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512vpopcntdq") &&
               __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq");
    if (k == &bc_kernels_avx2)
        return __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("popcnt");
    if (k == &bc_kernels_popcnt) return __builtin_cpu_supports("popcnt");
#else
    if (k != &bc_kernels_scalar) return 0;
#endif
    return 1;
}

static const bc_kernels *bc_best(void) {
    for (size_t i = 0; i < sizeof(bc_all) / sizeof(bc_all[0]); ++i)
        if (bc_supported(bc_all[i])) return bc_all[i];
    return &bc_kernels_scalar;
}

static const bc_kernels *bc_find(const char *name) {
    for (size_t i = 0; i < sizeof(bc_all) / sizeof(bc_all[0]); ++i)
        if (strcmp(bc_all[i]->name, name) == 0) return bc_all[i];
    return NULL;
}

static void bc_pack_range(void *ctx, int r0, int r1) {
    const bc_args *a = (const bc_args *)ctx;
    bc_current->pack_rows(a, r0, r1);
}

static void bc_conv_range(void *ctx, int r0, int r1) {
    const bc_args *a = (const bc_args *)ctx;
    bc_current->conv_rows(a, r0, r1);
}

#define PTR(v) ((void *)(intptr_t)(v))

static PyObject *py_conv2d(PyObject *self, PyObject *args) {
    long long x, thr, w, tapsum, alpha, beta, ss, res, ag, as, az, out, ops;
    long long xs[4], rs[4];
    int N, C, H, W, Cout, G, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, pad_mode;
    int act, raw, threads;
    float lo, hi;
    (void)self;
    if (!PyArg_ParseTuple(
            args,
            "LiiiiLLLLLLiiiiiiiiiiiiiLLLLLLLLLiffLLLLLii:conv2d", &x, &N, &C,
            &H, &W, &xs[0], &xs[1], &xs[2], &xs[3], &thr, &w, &Cout, &G, &kh,
            &kw, &sh, &sw, &dh, &dw, &pt, &pl, &pb, &pr, &pad_mode, &tapsum,
            &alpha, &beta, &ss, &res, &rs[0], &rs[1], &rs[2], &rs[3], &act,
            &lo, &hi, &ag, &as, &az, &out, &ops, &raw, &threads))
        return NULL;
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || Cout <= 0 || G <= 0 ||
        kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 ||
        pt < 0 || pl < 0 || pb < 0 || pr < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "conv2d: sizes, strides and dilations must be "
                        "positive and paddings non-negative");
        return NULL;
    }
    if (C % G || Cout % G) {
        PyErr_Format(PyExc_ValueError,
                     "conv2d: groups=%d must divide in_channels=%d and "
                     "out_channels=%d", G, C, Cout);
        return NULL;
    }
    if (pad_mode < BC_PAD_PLUS || pad_mode > BC_PAD_ZERO ||
        act < BC_ACT_NONE || act > BC_ACT_RPRELU) {
        PyErr_SetString(PyExc_ValueError, "conv2d: unknown pad_mode or act");
        return NULL;
    }
    if (!x || !w || !out || (!raw && (!alpha || !beta)) ||
        (pad_mode == BC_PAD_ZERO && !tapsum) ||
        (act == BC_ACT_RPRELU && (!ag || !as || !az))) {
        PyErr_SetString(PyExc_ValueError, "conv2d: a required buffer is NULL");
        return NULL;
    }
    bc_args a;
    memset(&a, 0, sizeof(a));
    a.x = (const float *)PTR(x);
    memcpy(a.xs, xs, sizeof(xs));
    a.N = N, a.C = C, a.H = H, a.W = W;
    a.thr = (const float *)PTR(thr);
    a.G = G, a.Cg = C / G, a.Wg = (a.Cg + 63) / 64;
    a.Cout = Cout, a.Cog = Cout / G, a.OBg = (a.Cog + 7) / 8;
    a.kh = kh, a.kw = kw, a.sh = sh, a.sw = sw, a.dh = dh, a.dw = dw;
    a.pt = pt, a.pl = pl, a.pb = pb, a.pr = pr;
    a.Hp = H + pt + pb, a.Wp = W + pl + pr;
    const int eh = a.Hp - dh * (kh - 1) - 1, ew = a.Wp - dw * (kw - 1) - 1;
    if (eh < 0 || ew < 0) {
        PyErr_Format(PyExc_ValueError,
                     "conv2d: the padded input (%d x %d) is smaller than the "
                     "dilated kernel", a.Hp, a.Wp);
        return NULL;
    }
    a.Ho = eh / sh + 1, a.Wo = ew / sw + 1;
    a.K = kh * kw * a.Wg, a.kvalid = a.Cg * kh * kw;
    a.pad_mode = pad_mode;
    a.weight = (const uint64_t *)PTR(w);
    a.tapsum = (const int32_t *)PTR(tapsum);
    a.alpha = (const float *)PTR(alpha), a.beta = (const float *)PTR(beta);
    a.ss = (const float *)PTR(ss);
    a.res = (const float *)PTR(res);
    memcpy(a.rs, rs, sizeof(rs));
    a.act = act, a.lo = lo, a.hi = hi;
    a.ag = (const float *)PTR(ag), a.as = (const float *)PTR(as);
    a.az = (const float *)PTR(az);
    a.out = (float *)PTR(out);
    a.ops = ops < Cout ? Cout : ops;
    a.raw = raw;
    int failed = 0;
    a.failed = &failed;
    const size_t words = (size_t)N * a.Hp * a.Wp * G * a.Wg;
    a.packed = (uint64_t *)malloc(words * sizeof(uint64_t));
    if (!a.packed) return PyErr_NoMemory();
    if (threads < 1) threads = 1;
    Py_BEGIN_ALLOW_THREADS
    bc_parallel_for(threads, N * a.Hp, bc_pack_range, &a);
    bc_parallel_for(threads, N * a.Ho, bc_conv_range, &a);
    Py_END_ALLOW_THREADS
    free(a.packed);
    if (failed) return PyErr_NoMemory();
    return Py_BuildValue("ii", a.Ho, a.Wo);
}

static PyObject *py_isa(PyObject *self, PyObject *noargs) {
    (void)self, (void)noargs;
    return PyUnicode_FromString(bc_current->name);
}

static PyObject *py_available_isas(PyObject *self, PyObject *noargs) {
    (void)self, (void)noargs;
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (size_t i = 0; i < sizeof(bc_all) / sizeof(bc_all[0]); ++i)
        if (bc_supported(bc_all[i])) {
            PyObject *s = PyUnicode_FromString(bc_all[i]->name);
            if (!s || PyList_Append(list, s) < 0) {
                Py_XDECREF(s);
                Py_DECREF(list);
                return NULL;
            }
            Py_DECREF(s);
        }
    return list;
}

static PyObject *py_set_isa(PyObject *self, PyObject *args) {
    const char *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "s:set_isa", &name)) return NULL;
    const bc_kernels *k = strcmp(name, "auto") == 0 ? bc_best() : bc_find(name);
    if (!k || !bc_supported(k)) {
        PyErr_Format(PyExc_ValueError,
                     "set_isa: %s is not available on this CPU/build "
                     "(see available_isas())", name);
        return NULL;
    }
    const char *prev = bc_current->name;
    bc_current = k;
    return PyUnicode_FromString(prev);
}

static PyMethodDef bc_methods[] = {
    {"conv2d", py_conv2d, METH_VARARGS,
     "Binary conv2d: pack the input's signs, XNOR-popcount, epilogue."},
    {"isa", py_isa, METH_NOARGS, "Name of the kernels in use."},
    {"available_isas", py_available_isas, METH_NOARGS,
     "Kernels this CPU can run, best first."},
    {"set_isa", py_set_isa, METH_VARARGS,
     "Select kernels by name ('auto' for the best); returns the previous."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef bc_module = {PyModuleDef_HEAD_INIT, "_bitconv",
                                       "Bit-packed binary convolution engine.",
                                       -1, bc_methods};

PyMODINIT_FUNC PyInit__bitconv(void) {
    bc_current = bc_best();
    const char *env = getenv("CMIM_BITCONV_ISA");
    if (env && *env && strcmp(env, "auto") != 0) {
        const bc_kernels *k = bc_find(env);
        if (!k || !bc_supported(k)) {
            PyErr_Format(PyExc_ImportError,
                         "CMIM_BITCONV_ISA=%s: not an available instruction "
                         "set (avx512, avx2, popcnt, scalar)", env);
            return NULL;
        }
        bc_current = k;
    }
    return PyModule_Create(&bc_module);
}
