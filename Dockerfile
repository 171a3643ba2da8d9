# A Debian 13 container with everything the workshop's commands need, for students on macOS or
# Windows (VS Code's Dev Containers, GitHub Codespaces: .devcontainer/devcontainer.json).
#   docker build -t workshop . && docker run -it --rm -v "$PWD:/workshop" -p 8000:8000 -p 9999:9999 workshop
# Its install step is the one .ci/bare-debian runs in a bare Debian 13 root (CI checks that they
# are the same line), so what CI proves there holds here. No image is built by CI.
FROM debian:trixie-slim
WORKDIR /workshop
COPY workshop ./
COPY tools/install.sh tools/requirements.txt tools/loop.py tools/wslib.py ./tools/
RUN ./workshop install tools build run editor
CMD ["bash"]
