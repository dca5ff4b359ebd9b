# ProxLB Web container image: one static server binary and its site on an empty (`scratch`) root.
#
#   cargo leptos build --release --precompress      # the site (target/site)
#   scripts/image-binary.sh                         # the image's static binary (profile `image`)
#   docker build -t proxlb-web .
#   docker run -d -p 8080:8080 -v /etc/proxlb:/etc/proxlb:ro --read-only proxlb-web
#   docker run -d -p 8080:8080 --read-only proxlb-web --demo     # a simulated cluster
#
# The image packages what was built on the host (see .dockerignore); no compiler runs in it.
# The binary links glibc statically, so the image holds nothing else but the CA bundle, the
# site, a passwd/group entry for its user and the data folder. BASE_IMAGE is only the stage the
# CA bundle comes from: any Debian or Ubuntu image with apt (scripts/docker-test.sh builds on a
# local Debian 12 root made with debootstrap, since no registry is reachable there).
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS rootfs
# The system trust store, for Proxmox hosts with publicly trusted certificates (self-signed
# ones are trusted with REQUESTS_CA_BUNDLE or PROXLB_WEB_PVE_FINGERPRINT instead). Everything
# the final image needs is laid out under /rootfs; UID/GID 65532 is the image's unprivileged user.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /rootfs/etc/ssl/certs /rootfs/etc/proxlb /rootfs/var/lib/proxlb-web /rootfs/tmp /rootfs/app \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && printf 'root:x:0:0:root:/:/sbin/nologin\nproxlb-web:x:65532:65532:ProxLB Web:/var/lib/proxlb-web:/sbin/nologin\n' \
       >/rootfs/etc/passwd \
    && printf 'root:x:0:\nproxlb-web:x:65532:\n' >/rootfs/etc/group \
    && printf 'hosts: files dns\n' >/rootfs/etc/nsswitch.conf \
    && chown 65532:65532 /rootfs/var/lib/proxlb-web \
    && chmod 0700 /rootfs/var/lib/proxlb-web \
    && chmod 1777 /rootfs/tmp

# The site without what no client needs: each WASM file only as its .br and .gz copies (every
# browser takes gzip; for a client that takes neither the server decompresses the .gz,
# src/server/gzip_only.rs), and no TypeScript declarations.
FROM ${BASE_IMAGE} AS site
COPY target/site /site
RUN for wasm in /site/pkg/*.wasm; do \
        if [ -f "$wasm.gz" ] && [ -f "$wasm.br" ]; then rm "$wasm"; fi; \
    done \
    && rm -f /site/pkg/*.d.ts /site/pkg/*.d.ts.gz /site/pkg/*.d.ts.br

FROM scratch
COPY --from=rootfs /rootfs/ /
COPY target/x86_64-unknown-linux-gnu/image/proxlb-web /app/proxlb-web
COPY --from=site /site /app/site

# Settings are environment variables (README, "Configuration"); these are the image's defaults.
# Everything the server writes, temporary files included, goes under the data volume, so the
# root filesystem can be read-only (`docker run --read-only`). The server's allocator settings
# are compiled into the binary (.cargo/config.toml, JEMALLOC_SYS_WITH_MALLOC_CONF).
ENV HOST=0.0.0.0 \
    PORT=8080 \
    LEPTOS_SITE_ROOT=/app/site \
    PROXLB_CONFIG=/etc/proxlb/proxlb.yaml \
    PROXLB_CONTAINER=proxlb \
    PROXLB_WEB_DATA=/var/lib/proxlb-web \
    TMPDIR=/var/lib/proxlb-web \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    RUST_LOG=info
VOLUME ["/var/lib/proxlb-web"]
# Never root. Numeric, so the runtime needs no user database to resolve it; add the Docker
# socket's group with `--group-add` / compose `group_add` only if service control needs it.
USER 65532:65532
EXPOSE 8080
# The binary probes its own /healthz on HOST/PORT (no curl in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/app/proxlb-web", "--healthcheck"]
# SIGTERM ends open live channels and stops the server (graceful shutdown).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/proxlb-web"]
