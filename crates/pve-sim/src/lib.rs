//! A stateful Proxmox VE API simulator (work in progress).
