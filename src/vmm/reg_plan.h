/*
 * A vCPU's register state written as a table, one VM-API call per row, with
 * one error line naming the row that failed (boot.c, boot_entry.c,
 * vcpu_startup.c).
 */
#ifndef HVGDB_REG_PLAN_H
#define HVGDB_REG_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "hvgdb/vmm.h"

struct reg_value {
	enum vm_reg_name reg;
	uint64_t val;
	const char *name;
};

struct desc_value {
	enum vm_reg_name reg;
	struct seg_desc desc;
	const char *name;
	/* A backend that rebuilds this hidden part from the GDT on a
	 * selector load (Unicorn) may refuse to set it: the GDT holds the
	 * same descriptor, so that is as good. */
	bool from_gdt_ok;
};

/* 0, or the failing call's -errno with "cannot set NAME of vCPU N: ..." in
 * err. */
int reg_plan_set_regs(struct vm *vm, int vcpu, const struct reg_value *r,
		      size_t n, char *err, size_t errlen);
int reg_plan_set_descs(struct vm *vm, int vcpu, const struct desc_value *d,
		       size_t n, char *err, size_t errlen);

#endif
