/* The Unicorn (TCG) backend: the only place that includes Unicorn. */
#ifndef HVGDB_TCG_H
#define HVGDB_TCG_H

struct vm_backend_ops;
extern const struct vm_backend_ops tcg_backend_ops;

#endif
