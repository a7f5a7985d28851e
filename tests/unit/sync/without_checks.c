/* struct checked_mutex as a build without lock checks lays it out. */
#include <stddef.h>

#include "sync/checked_mutex.h"

size_t checked_mutex_size_without_checks(void);

size_t checked_mutex_size_without_checks(void)
{
	return sizeof(struct checked_mutex);
}
