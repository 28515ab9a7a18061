# The hub's image for deploy/compose and deploy/k8s: a static binary on a
# small base. Build from the repository root:
#   docker build -f deploy/compose/hub.Dockerfile -t vetnet/hub:latest .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/hub ./cloud/cmd/hub

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hub /usr/local/bin/hub
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hub"]
