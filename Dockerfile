# ProxLB Web container image: the release server and its site on Debian 12 (bookworm).
#
#   cargo leptos build --release --precompress      # or run scripts/demo.sh once
#   docker build -t proxlb-web .
#   docker run -d -p 8080:8080 -v /etc/proxlb:/etc/proxlb:ro proxlb-web
#   docker run -d -p 8080:8080 proxlb-web --demo     # a simulated cluster, no Proxmox needed
#
# The image packages the release build from target/ (see .dockerignore): the binary links glibc
# dynamically, so the base must be Debian 12 or newer. BASE_IMAGE lets a host without registry
# access build on a local Debian 12 image (scripts/docker-test.sh does that).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# The system trust store, for Proxmox hosts with publicly trusted certificates (self-signed
# ones are trusted with REQUESTS_CA_BUNDLE or PROXLB_WEB_PVE_FINGERPRINT instead).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY target/release/proxlb-web /app/proxlb-web
COPY target/site /app/site

# Settings are environment variables (README, "Configuration"); these are the image's defaults.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    LEPTOS_SITE_ROOT=/app/site \
    PROXLB_CONFIG=/etc/proxlb/proxlb.yaml \
    PROXLB_CONTAINER=proxlb \
    PROXLB_WEB_DATA=/var/lib/proxlb-web \
    RUST_LOG=info
VOLUME ["/var/lib/proxlb-web"]
EXPOSE 8080
# The binary probes its own /healthz on HOST/PORT (no curl in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/app/proxlb-web", "--healthcheck"]
# SIGTERM ends open live channels and stops the server (graceful shutdown).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/proxlb-web"]
