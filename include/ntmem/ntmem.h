/* Everything at once, for the command-line tool and tests. */
#ifndef NTMEM_NTMEM_H
#define NTMEM_NTMEM_H

#include <ntmem/bytes.h>
#include <ntmem/error.h>
#include <ntmem/source.h>
#include <ntmem/triage.h>
#include <ntmem/page_state.h>
#include <ntmem/swpte.h>
#include <ntmem/xlat.h>
#include <ntmem/version.h>
#include <ntmem/kdbg.h>
#include <ntmem/kernel.h>
#include <ntmem/pagefile.h>
#include <ntmem/va_map.h>
#include <ntmem/modules.h>
#include <ntmem/pfn.h>
#include <ntmem/pe.h>

#define NTMEM_VERSION "0.1.0"

#endif
