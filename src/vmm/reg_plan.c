#include "vmm/reg_plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int reg_plan_set_regs(struct vm *vm, int vcpu, const struct reg_value *r,
		      size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int rc = vm_set_register(vm, vcpu, r[i].reg, r[i].val);
		if (rc) {
			snprintf(err, errlen, "cannot set %s of vCPU %d: %s",
				 r[i].name, vcpu, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int reg_plan_set_descs(struct vm *vm, int vcpu, const struct desc_value *d,
		       size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int rc = vm_set_desc(vm, vcpu, d[i].reg, &d[i].desc);
		if (rc == -ENOTSUP && d[i].from_gdt_ok)
			continue;
		if (rc) {
			snprintf(err, errlen, "cannot set %s of vCPU %d: %s",
				 d[i].name, vcpu, strerror(-rc));
			return rc;
		}
	}
	return 0;
}
