/* The x86-64 target description served through qXfer:features:read. */
#ifndef HVGDB_GDBSTUB_TARGET_XML_H
#define HVGDB_GDBSTUB_TARGET_XML_H

#include <stddef.h>

/* The whole target.xml, numbered exactly as enum gdb_x86_reg. */
const char *gdb_target_xml(size_t *len);
/* Name of register regno as in the XML (for diagnostics), or NULL. */
const char *gdb_x86_reg_name(int regno);
/* Sum of all register sizes: the length of a 'g' reply in bytes. */
size_t gdb_x86_regs_total_size(void);

#endif
