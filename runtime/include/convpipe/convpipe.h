#pragma once
// convpipe: convolution pipelines compiled ahead of time with Halide.
//
//   convpipe::Pipeline p = convpipe::Pipeline::open("edges");
//   convpipe::Tensor img = convpipe::load_image("coffee.png", convpipe::Color::Gray);
//   std::vector<convpipe::Tensor> out = p.run({img});
//   convpipe::save_image(out.at(0), "edges.png", convpipe::Scale::MinMax);
#include "convpipe/classic.h"
#include "convpipe/cpu.h"
#include "convpipe/error.h"
#include "convpipe/graph.h"
#include "convpipe/io.h"
#include "convpipe/pipeline.h"
#include "convpipe/tensor.h"
