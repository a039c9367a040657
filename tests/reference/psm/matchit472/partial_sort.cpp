// Reference for nearest._heap_partial_sort: libstdc++ std::partial_sort on small arrays with ties.
// Build and run: g++ -O0 -o ps partial_sort.cpp && ./ps > partial_sort_cases.txt (g++ 12.2.0, Debian 12)
#include <algorithm>
#include <cstdio>
#include <vector>
#include <numeric>
int main(){ unsigned s=1; auto rnd=[&](){ s=s*1103515245+12345; return (s>>16)%3; };
 for(int rep=0;rep<40;rep++){ int n=3+rep%7, k=1+rep%4; if(k>=n) k=n-1; std::vector<double> d(n); for(auto&x:d) x=rnd();
  std::vector<int> ind(n); std::iota(ind.begin(),ind.end(),0);
  std::partial_sort(ind.begin(),ind.begin()+k,ind.end(),[&](int a,int b){return d[a]<d[b];});
  printf("(["); for(int i=0;i<n;i++) printf("%g,",d[i]); printf("], %d, [",k); for(int i=0;i<k;i++) printf("%d,",ind[i]); printf("]),\n"); } }
