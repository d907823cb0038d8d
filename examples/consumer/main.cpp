// Runs the `sharpen` pipeline this project compiled with convpipe_add_pipeline
// and checks a few pixels against the filter worked out by hand.
#include <convpipe/convpipe.h>

#include <cmath>
#include <cstdio>

int main() {
    try {
        convpipe::Pipeline p = convpipe::Pipeline::open("sharpen");
        // A 4x5 ramp: value = 10*y + x.
        convpipe::Tensor img({4, 5});
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++) img.at({y, x}) = float(10 * y + x);
        std::vector<convpipe::Tensor> out = p.run({img});
        const convpipe::Tensor &o = out.at(0);
        // Interior pixels of a ramp are unchanged by the sharpening kernel;
        // at (0,0) the zero padding leaves 5*0 - 1 - 10 = -11.
        struct Check { int y, x, c; float want; } checks[] = {
            {1, 1, 0, 11.0f}, {2, 3, 0, 23.0f}, {1, 1, 1, 0.0f}, {0, 0, 0, 0.0f}, {0, 0, 1, 11.5f}};
        int bad = 0;
        for (const Check &k : checks) {
            float got = o.at({0, k.y, k.x, k.c});
            if (std::fabs(got - k.want) > 1e-5f) {
                std::printf("sharpen(%d,%d,%d) = %g, expected %g\n", k.y, k.x, k.c, got, k.want);
                bad++;
            }
        }
        std::printf("consumer: %s, output %s, %s\n", p.description().c_str(),
                    convpipe::shape_to_string(o.shape()).c_str(), bad ? "WRONG" : "ok");
        return bad ? 1 : 0;
    } catch (const convpipe::Error &e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
}
